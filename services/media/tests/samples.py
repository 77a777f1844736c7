"""Small real files for the media tests (made once with ImageMagick, cwebp
and heif-enc; 2x2 pixels each) and hand-made hostile ones."""
import io
import zipfile
from base64 import b64decode

JPEG = b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkI"
    "CQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQ"
    "EBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAACAAIDAREA"
    "AhEBAxEB/8QAFAABAAAAAAAAAAAAAAAAAAAACP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/xAAVAQEB"
    "AAAAAAAAAAAAAAAAAAAHCf/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/ADoDFU3/"
    "2Q==")

PNG = b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACAQMAAABIeJ9nAAAAA1BMVEUAAP+KeNJXAAAADElEQVQI"
    "12NgYGAAAAAEAAEnNCcKAAAAAElFTkSuQmCC")

WEBP = b64decode(
    "UklGRjgAAABXRUJQVlA4ICwAAACQAQCdASoCAAIAAgA0JaACdLoAA5gA/vmTb/+QH/+QH/+QH/8g"
    "P+IXeyAwAA==")

HEIC = b64decode(
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAaxtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABw"
    "aWN0AAAAAAAAAAAAAAAAAAAAAA5waXRtAAAAAAACAAAAEGlkYXQAAAAAAAIAAgAAADhpbG9jAQAA"
    "AERAAAIAAQAAAAAAAAHQAAEAAAAAAAAAPQACAAEAAAAAAAAAAQAAAAAAAAAIAAAAOGlpbmYAAAAA"
    "AAIAAAAVaW5mZQIAAAEAAQAAaHZjMQAAAAAVaW5mZQIAAAAAAgAAZ3JpZAAAAADXaXBycAAAALVp"
    "cGNvAAAAdWh2Y0MBBAgAAAAAAAAAAAAe8AD8/fr6AAAPAyAAAQAXQAEMAf//BAgAAAMAnbgAAAMA"
    "AB66AkAhAAEAKkIBAQQIAAADAJ24AAADAAAeoCCBBNluqumubgQEDAgAAAMACAAAAwAIQCIAAQAG"
    "RAHBc8GJAAAAFGlzcGUAAAAAAAAAQAAAAEAAAAAUaXNwZQAAAAAAAAACAAAAAgAAABBwaXhpAAAA"
    "AAMKCgoAAAAaaXBtYQAAAAAAAAACAAECgQIAAgIDhAAAABppcmVmAAAAAAAAAA5kaW1nAAIAAQAB"
    "AAAARW1kYXQAAAA5KAGvEyF4kkDpYRXq7wIXkhcSrQHXv4XvkZUi9VIrky4sb0nOoATv/daxX+4R"
    "ZUDjv4zdYqjdqCeg")

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")

# A Windows program: DOS header, stub, PE signature. Renamed .jpg by an attacker.
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
       + b"\xb8" + b"\x00" * 7 + b"\x40" + b"\x00" * 35 + b"\x80\x00\x00\x00"
       + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
       + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 7
       + b"PE\x00\x00\x4c\x01\x03\x00" + b"\x00" * 64)

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56

# HEIF containers: generic HEIF (mif1 only) and AVIF (AV1, not allowed).
HEIF_MIF1 = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf" + b"\x00" * 16
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 16
AVIF_AS_MIF1 = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf" + b"\x00" * 16
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 16

CSV = "部门,姓名,金额\n工程部,张三,1300.00\n".encode()
CSV_BOM = b"\xef\xbb\xbf" + CSV
LATIN1_TEXT = "café,prix\n".encode("latin-1")
HTML = b"<!doctype html><html><script>alert(1)</script></html>"
SVG = b'  <svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def xlsx():
    """A real workbook, written by openpyxl."""
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["部门", "金额"])
    book.active.append(["工程部", 1300])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_like():
    """An Office zip that is not a workbook (has [Content_Types].xml, no xl/)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


def plain_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def jpeg_headed(size):
    """`size` bytes that start like a JPEG (benchmarks, size limits)."""
    return (JPEG[:20] + b"\x00" * size)[:size]
