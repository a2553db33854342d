"""Running workflows for cases and screenings: state, query rows and history change together."""
