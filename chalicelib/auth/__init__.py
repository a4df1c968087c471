"""Identity and authorisation: verified bearer tokens, roles with an agency scope, one permission matrix."""
