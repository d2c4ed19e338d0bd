//! `schema.graphql` is generated from the code; this fails when the checked-in
//! file is stale. Regenerate with `cargo run -- export-schema --output schema.graphql`.

#[test]
fn checked_in_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists at the repository root");
    let generated = herald::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is out of date: run `cargo run -- export-schema --output schema.graphql`"
    );
}

#[test]
fn schema_keeps_the_contract_names() {
    let sdl = herald::graphql::sdl();
    for name in [
        "enum Role",
        "enum Severity",
        "enum ObservationStatus",
        "enum SecurityGateStatus",
        "scalar DateTime",
        "login(username: String!, password: String!): AuthPayload!",
        "createApiToken(name: String!): ApiTokenPayload!",
        "importObservations(productId: ID!, scanner: String!, observations: [ImportedObservation!]!): ImportResult!",
        "updateSettings(input: SettingsInput!): Settings!",
        "input ProductPatch",
        "input ThresholdsInput",
        "openObservationCounts: Thresholds!",
        "myRole: Role",
    ] {
        assert!(sdl.contains(name), "schema lacks {name:?}");
    }
    assert!(
        !sdl.contains("injectFault"),
        "fault injection never appears in the public schema"
    );
}
