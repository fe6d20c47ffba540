"""The events services exchange and the HTTP answers they give each other: the envelope,
the schemas and their golden examples, the shared codes. Imports nothing else of Nexam."""
