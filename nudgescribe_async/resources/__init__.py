"""Thin async methods per API area: build the body, call the client, return typed results."""
