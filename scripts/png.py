"""A valid, tiny PNG (2x2, blue) for driving uploads: media sniffs the content."""
from base64 import b64decode

_PNG = b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACAQMAAABIeJ9nAAAAA1BMVEUAAP+KeNJXAAAADElEQVQI"
    "12NgYGAAAAAEAAEnNCcKAAAAAElFTkSuQmCC")


def tiny_png():
    return _PNG
