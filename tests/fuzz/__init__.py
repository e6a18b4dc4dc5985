"""Property-based fuzzing of the running platform with schemathesis."""
