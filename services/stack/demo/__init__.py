"""`revmentor demo`: a whole reverse-mentoring programme played through the public HTTP APIs."""
