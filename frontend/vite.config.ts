import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The app is served by Herald itself (HERALD_UI_DIR); in `npm run dev` the
// API calls go to a Herald on 127.0.0.1:8000.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:8000', ws: true },
    },
  },
  build: { outDir: 'dist', sourcemap: false },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test-setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
