"""Reading input_file contents offline, with real PDFs written by fpdf2 at run time."""

from __future__ import annotations

import base64
import codecs
import functools
import io
from pathlib import Path

import pytest
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from inputtokens import InvalidRequestError, Settings, count_input_tokens
from inputtokens.core.tokenizer import get_encoding
from inputtokens.library import local_sources
from inputtokens.media.files import (
    MAX_FILE_BYTES,
    MAX_PDF_PAGES,
    FileContent,
    FileError,
    decode_file_data,
    file_data_media_type,
    is_supported_filename,
    read_file,
)

A4 = (595.28, 841.89)  # points
PAGE_TEXTS = ("Quarterly revenue grew", "Operating costs fell", "Outlook for next year")


def _pdf(*pages: tuple[str, str]) -> bytes:
    """A PDF with one page per (text, orientation) pair, A4, Helvetica."""
    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=14)
    for text, orientation in pages:
        pdf.add_page(orientation=orientation)
        pdf.cell(text=text)
    return bytes(pdf.output())


def _rewrite(
    data: bytes, *, rotate: int = 0, user_password: str | None = None, algorithm: str = "RC4-128"
) -> bytes:
    """The same PDF passed through pypdf: pages turned by /Rotate, or encrypted."""
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(data)).pages:
        writer.add_page(page)
        if rotate:
            writer.pages[-1].rotate(rotate)
    if user_password is not None:
        writer.encrypt(user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.cache
def _three_pages() -> bytes:
    return _pdf(*((text, "P") for text in PAGE_TEXTS))


@functools.cache
def _one_page() -> bytes:
    return _pdf(("Hello from page one", "P"))


def _code(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(FileError) as info:
        call(*args, **kwargs)
    return info.value.code


# --- PDF ---------------------------------------------------------------------------------------


def test_one_page_pdf_text_and_a4_size() -> None:
    content = read_file(_one_page(), "letter.pdf")
    assert content.kind == "pdf"
    assert content.filename == "letter.pdf"
    [page] = content.pages
    assert "Hello from page one" in page.text
    assert page.width_pt == pytest.approx(A4[0], abs=0.5)
    assert page.height_pt == pytest.approx(A4[1], abs=0.5)


def test_pages_keep_their_own_text_in_order() -> None:
    content = read_file(_three_pages(), "report.pdf")
    assert len(content.pages) == 3
    for page, text in zip(content.pages, PAGE_TEXTS, strict=True):
        assert text in page.text
    assert "Quarterly revenue" not in content.pages[1].text
    assert content.text == "\n\n".join(page.text for page in content.pages)
    assert content.text.index("Quarterly") < content.text.index("Outlook")


def test_landscape_page_is_wider_than_tall() -> None:
    content = read_file(_pdf(("Portrait", "P"), ("Wide table", "L")), "mixed.pdf")
    portrait, landscape = content.pages
    assert (portrait.width_pt, portrait.height_pt) == pytest.approx(A4, abs=0.5)
    assert (landscape.width_pt, landscape.height_pt) == pytest.approx(A4[::-1], abs=0.5)
    assert "Wide table" in landscape.text


@pytest.mark.parametrize(("rotate", "expected"), [(90, A4[::-1]), (180, A4), (270, A4[::-1])])
def test_rotate_swaps_displayed_sides(rotate: int, expected: tuple[float, float]) -> None:
    content = read_file(_rewrite(_one_page(), rotate=rotate), "turned.pdf")
    [page] = content.pages
    assert (page.width_pt, page.height_pt) == pytest.approx(expected, abs=0.5)
    assert "Hello from page one" in page.text


def test_pdf_found_by_header_whatever_the_name() -> None:
    for name, content_type in [
        ("scan.bin", None),
        (None, None),
        (None, "application/pdf"),
        ("upload", "application/octet-stream"),
    ]:
        content = read_file(_one_page(), name, content_type)
        assert content.kind == "pdf"
        assert content.filename == (name or "")


def test_junk_before_the_pdf_header_is_accepted() -> None:
    assert read_file(b"\r\n junk \n" + _one_page(), "prefixed.pdf").kind == "pdf"


def test_text_file_mentioning_the_pdf_header_stays_text() -> None:
    content = read_file(b"How to spot a PDF: it starts with %PDF-1.7\n", "notes.txt")
    assert content.kind == "text"
    assert content.text.startswith("How to spot")


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_encrypted_pdf_with_empty_user_password_opens(algorithm: str) -> None:
    # Owner-password-only PDFs (locked against editing) are common, and most use AES.
    data = _rewrite(_three_pages(), user_password="", algorithm=algorithm)
    assert PdfReader(io.BytesIO(data)).is_encrypted
    content = read_file(data, "locked-for-editing.pdf")
    assert "Operating costs" in content.pages[1].text


def test_encrypted_pdf_with_a_password_is_refused() -> None:
    data = _rewrite(_one_page(), user_password="hunter2")
    with pytest.raises(FileError, match="password") as info:
        read_file(data, "secret.pdf")
    assert info.value.code == "invalid_file"


@pytest.mark.parametrize("keep", [0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_truncated_pdf_is_a_file_error(keep: float) -> None:
    data = _three_pages()
    try:
        content = read_file(data[: int(len(data) * keep)], "cut.pdf")
    except FileError as error:
        assert error.code == "invalid_file"
    else:  # pypdf can rebuild a file cut inside its trailer; then the text must be real
        assert "Quarterly revenue" in content.text


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 4,
        b"%PDF-",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n",
    ],
)
def test_garbage_after_a_pdf_header_is_a_file_error(data: bytes) -> None:
    assert _code(read_file, data, "broken.pdf") == "invalid_file"


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"this is not a pdf at all", "report.pdf", None),
        (b"", "empty.pdf", None),
        (b"\x89PNG\r\n\x1a\n", None, "application/pdf"),
    ],
)
def test_named_pdf_without_pdf_bytes_is_invalid(
    data: bytes, name: str | None, content_type: str | None
) -> None:
    with pytest.raises(FileError, match="not one") as info:
        read_file(data, name, content_type)
    assert info.value.code == "invalid_file"


def test_too_many_pages() -> None:
    assert read_file(_three_pages(), "r.pdf", max_pages=3).kind == "pdf"
    with pytest.raises(FileError, match="3 pages") as info:
        read_file(_three_pages(), "r.pdf", max_pages=2)
    assert info.value.code == "file_too_large"


def test_pypdf_stays_quiet(caplog: pytest.LogCaptureFixture) -> None:
    # The suite turns warnings into errors, so reaching the end also proves none escaped.
    data = _three_pages()
    for cut in (len(data) // 2, len(data) - 40):
        try:
            read_file(data[:cut], "cut.pdf")
        except FileError:
            pass
    assert not [record for record in caplog.records if record.name.startswith("pypdf")]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_damaged_pdfs_raise_only_file_error(data: st.DataObject) -> None:
    original = bytearray(_one_page())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(5, len(original)))
    try:
        content = read_file(bytes(original[:cut]), "fuzzed.pdf")
    except FileError:
        return
    assert isinstance(content, FileContent)


# --- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("notes.txt", "Plain notes\nwith two lines\n"),
        ("README.md", "# Title\n\nSome *markdown*.\n"),
        ("data.json", '{"revenue": 12, "currency": "EUR"}'),
        ("table.csv", "quarter,revenue\nQ1,10\nQ2,12\n"),
        ("script.py", "def main() -> None:\n    print('héllo')\n"),
        ("SHOUTING.TXT", "Upper-case extension"),
    ],
)
def test_text_files(name: str, text: str) -> None:
    content = read_file(text.encode(), name)
    assert content.kind == "text"
    assert content.filename == name
    assert content.pages == (content.pages[0],)
    assert content.pages[0].width_pt is None and content.pages[0].height_pt is None
    assert content.text == text


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF8 + "naïve café".encode(),
        "naïve café".encode("utf-16"),  # native order, with BOM
        codecs.BOM_UTF16_LE + "naïve café".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "naïve café".encode("utf-16-be"),
        "naïve café".encode("utf-32"),
    ],
)
def test_byte_order_marks_pick_the_codec_and_are_dropped(encoded: bytes) -> None:
    assert read_file(encoded, "bom.txt").text == "naïve café"


@pytest.mark.parametrize("data", [b"caf\xe9 au lait", b"\xff\xfeA", b"ok\x80"])
def test_undecodable_text_is_invalid(data: bytes) -> None:
    with pytest.raises(FileError, match="not valid") as info:
        read_file(data, "latin1.txt")
    assert info.value.code == "invalid_file"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/markdown; charset=utf-8", "application/json", "TEXT/X-PYTHON"],
)
def test_media_type_decides_without_an_extension(content_type: str) -> None:
    assert read_file(b"hello", None, content_type).text == "hello"
    assert read_file(b"hello", "Makefile", content_type).kind == "text"


# --- unsupported types -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["setup.exe", "photo.png", "data.xyz", "archive.tar.gz"])
def test_unsupported_extensions_are_named_and_alternatives_listed(name: str) -> None:
    with pytest.raises(FileError) as info:
        read_file(b"MZ\x90\x00 binary", name)
    error = info.value
    assert error.code == "unsupported_file_type"
    assert f"'.{name.rsplit('.', 1)[1]}'" in str(error)
    assert ".pdf" in str(error) and ".txt" in str(error) and ".py" in str(error)


def test_images_sent_as_files_point_to_input_image() -> None:
    with pytest.raises(FileError, match="input_image"):
        read_file(b"\x89PNG\r\n\x1a\n", "photo.png")
    with pytest.raises(FileError, match="input_image"):
        read_file(b"\x89PNG\r\n\x1a\n", None, "image/png")


def test_the_extension_wins_over_the_media_type() -> None:
    assert _code(read_file, b"hello", "tool.exe", "text/plain") == "unsupported_file_type"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("minutes.docx", None),
        ("budget.xlsx", None),
        ("deck.pptx", None),
        ("memo.rtf", None),
        (None, "text/rtf"),
    ],
)
def test_office_documents_are_refused_by_this_counter(
    name: str | None, content_type: str | None
) -> None:
    with pytest.raises(FileError, match="accepted by OpenAI, but this counter") as info:
        read_file(b"PK\x03\x04", name, content_type)
    assert info.value.code == "unsupported_file_type"


@pytest.mark.parametrize("name", [None, "", "Makefile", ".bashrc"])
def test_no_way_to_tell_the_type(name: str | None) -> None:
    with pytest.raises(FileError, match="file name") as info:
        read_file(b"hello", name)
    assert info.value.code == "unsupported_file_type"


def test_unknown_media_type_without_extension() -> None:
    assert _code(read_file, b"\x00\x01", None, "application/octet-stream") == (
        "unsupported_file_type"
    )


def test_is_supported_filename() -> None:
    assert is_supported_filename("a.pdf") and is_supported_filename("dir/b.Json")
    assert not is_supported_filename("c.docx")
    assert not is_supported_filename("Makefile")
    assert not is_supported_filename("")


# --- base64 / data URLs ------------------------------------------------------------------------


def test_data_url_and_bare_base64_decode_to_the_same_bytes() -> None:
    data = _one_page()
    encoded = base64.b64encode(data).decode()
    assert decode_file_data(f"data:application/pdf;base64,{encoded}") == data
    assert decode_file_data(encoded) == data
    assert decode_file_data(f"DATA:text/plain;charset=utf-8;base64,{encoded}") == data
    assert read_file(decode_file_data(encoded), "x.pdf").pages[0].text.startswith("Hello")


@pytest.mark.parametrize(
    "file_data",
    [
        "data:application/pdf;base64,not base64!",
        "abc",  # bad length
        "data:application/pdf;base64,QUJD\nREVG",  # line breaks are not base64
        "data:text/plain,hello",  # not base64 at all
        "data:;;;",
        "data:application/pdf;base64",
    ],
)
def test_bad_file_data_is_invalid(file_data: str) -> None:
    assert _code(decode_file_data, file_data) == "invalid_file"


def test_size_is_checked_before_decoding() -> None:
    # Invalid base64 that is also too long: the size error comes first, so nothing was decoded.
    with pytest.raises(FileError, match="limit of 30 bytes") as info:
        decode_file_data("data:application/pdf;base64," + "!" * 44, max_bytes=30)
    assert info.value.code == "file_too_large"


@pytest.mark.parametrize("size", [10, 11, 12])
def test_size_limit_is_exact(size: int) -> None:
    encoded = base64.b64encode(b"x" * size).decode()
    assert len(decode_file_data(encoded, max_bytes=size)) == size
    assert _code(decode_file_data, encoded, max_bytes=size - 1) == "file_too_large"


def test_media_type_of_file_data() -> None:
    assert file_data_media_type("data:Application/PDF;base64,QUJD") == "application/pdf"
    assert file_data_media_type("data:;base64,QUJD") is None
    assert file_data_media_type("QUJD") is None


def test_limits_and_error_type() -> None:
    assert MAX_FILE_BYTES == 50 * 1024 * 1024
    assert MAX_PDF_PAGES == 100
    assert issubclass(FileError, ValueError)
    assert FileError("x").code == "invalid_file"


# --- counted as input_file parts ---------------------------------------------------------------


def _file_body(part: dict[str, object], model: str = "gpt-5") -> dict[str, object]:
    return {
        "model": model,
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Summarise this."},
                    {"type": "input_file", **part},
                ],
            }
        ],
    }


def test_pdf_part_costs_its_name_and_its_extracted_text() -> None:
    data = _three_pages()
    result = count_input_tokens(
        _file_body({"filename": "report.pdf", "file_data": base64.b64encode(data).decode()})
    )
    enc = get_encoding("o200k_base")
    text = read_file(data, "report.pdf").text
    assert "Operating costs" in text
    assert result.details["file_tokens"] == len(enc.encode("report.pdf")) + len(enc.encode(text))
    assert not result.exact
    assert any("PDF" in r for r in result.estimate_reasons)
    [entry] = [m for p in result.to_rich()["breakdown"] for m in p["media"]]
    assert entry["kind"] == "file" and entry["tokens"] == result.details["file_tokens"]
    assert "3 page" in entry["label"]


def test_data_url_file_data_and_text_files() -> None:
    csv = "city,population\nLyon,522969\n"
    payload = "data:text/csv;base64," + base64.b64encode(csv.encode()).decode()
    result = count_input_tokens(_file_body({"filename": "cities.csv", "file_data": payload}))
    enc = get_encoding("o200k_base")
    assert result.details["file_tokens"] == len(enc.encode("cities.csv")) + len(enc.encode(csv))
    assert any("spreadsheet" in r for r in result.estimate_reasons)


@pytest.mark.parametrize(
    ("part", "param", "code"),
    [
        ({"file_id": "file-123"}, "input[0].content[1].file_id", "file_not_found"),
        ({"file_data": "aGVsbG8="}, "input[0].content[1].filename", "missing_required_parameter"),
        ({"filename": "a.txt"}, "input[0].content[1].file_data", "missing_required_parameter"),
        (
            {"filename": "a.txt", "file_data": "aGVsbG8=", "file_url": "https://example.com/a.txt"},
            "input[0].content[1].file_url",
            "invalid_value",
        ),
        (
            {"filename": "tool.exe", "file_data": "aGVsbG8="},
            "input[0].content[1].file_data",
            "unsupported_file_type",
        ),
        (
            {"filename": "scan.pdf", "file_data": "aGVsbG8="},
            "input[0].content[1].file_data",
            "invalid_file",
        ),
        ({"file_url": "ftp://example.com/a.txt"}, "input[0].content[1].file_url", "invalid_value"),
    ],
)
def test_bad_file_parts_are_400s_naming_the_field(
    part: dict[str, object], param: str, code: str, tmp_path: Path
) -> None:
    sources = local_sources(Settings(data_dir=str(tmp_path)))
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(_file_body(part), sources=sources)
    assert (info.value.param, info.value.code, info.value.status) == (param, code, 400)


def test_file_over_the_configured_cap_is_refused_before_decoding() -> None:
    body = _file_body({"filename": "big.txt", "file_data": base64.b64encode(b"x" * 5000).decode()})
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(body, settings=Settings(max_file_bytes=4000))
    assert info.value.code == "file_too_large"
