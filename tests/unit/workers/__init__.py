"""Unit tests of the Lambda handlers, on recorded events, with fakes for every port."""
