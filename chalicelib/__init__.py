"""The domain of the PAR/SIPAS platform, shared by the API (app.py) and the workers (functions/)."""
