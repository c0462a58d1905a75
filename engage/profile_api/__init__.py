"""The Profile API: Segment's read API of a space's profiles (``/v1/spaces/...``),
HTTP Basic with a space access token, Segment's shapes and errors (not the Config
API's envelope). Plain Django views, like the Tracking API: no principal, the token
names the space."""
