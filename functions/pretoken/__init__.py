"""Cognito trigger: pre token generation (event V2_0), which puts the official's agency scope into the access token."""
