import type { CodegenConfig } from '@graphql-codegen/cli';

// Types for every query in src/ from the server's checked-in schema.
// CODEGEN_OUT lets the staleness check write elsewhere and compare.
const out = process.env.CODEGEN_OUT ?? './src/gql/';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        scalars: { DateTime: 'string', ID: 'string' },
        useTypeImports: true,
      },
    },
  },
  hooks: {},
};

export default config;
