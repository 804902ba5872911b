"""Download tests against a local HTTP server on 127.0.0.1 that the tests start and stop."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import skinlesion.datasets.fetch as fetch
from skinlesion.datasets import DownloadError, fetch_dermamnist, fetch_ham10000
from skinlesion.datasets.fetch import RemoteFile, download


class _Server:
    """Serves ``files`` (path -> bytes) with HTTP Range support.

    ``cut[path] = n`` makes the next response for ``path`` stop after ``n`` bytes
    (a dropped connection); ``no_range`` makes the server ignore Range headers.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.no_range = False
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                if rng and not server.no_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                limit = server.cut.pop(self.path, None)
                self.wfile.write(payload if limit is None else payload[:limit])
                if limit is not None:
                    self.wfile.flush()
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server():
    with _Server() as s:
        yield s


def _md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


def test_download_checks_checksum_and_renames(server, tmp_path):
    body = bytes(range(256)) * 200
    server.files["/f.bin"] = body
    remote = RemoteFile("f.bin", server.url + "/f.bin", _md5(body))
    path = download(remote, tmp_path)
    assert path == tmp_path / "f.bin" and path.read_bytes() == body
    assert not (tmp_path / "f.bin.part").exists()
    n = len(server.requests)
    assert download(remote, tmp_path) == path  # present and intact: no new request
    assert len(server.requests) == n


def test_interrupted_download_resumes_with_range(server, tmp_path):
    body = np.random.default_rng(0).bytes(300_000)
    server.files["/big.npz"] = body
    server.cut["/big.npz"] = 100_000
    remote = RemoteFile(
        "big.npz", server.url + "/big.npz", "sha256:" + hashlib.sha256(body).hexdigest()
    )
    with pytest.raises(DownloadError, match="resume"):
        download(remote, tmp_path)
    assert not (tmp_path / "big.npz").exists()  # a half-written file never passes
    assert (tmp_path / "big.npz.part").stat().st_size == 100_000
    path = download(remote, tmp_path)
    assert path.read_bytes() == body
    assert server.requests[-1] == ("/big.npz", "bytes=100000-")


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    body = b"abcdefghij" * 1000
    server.files["/f"] = body
    server.no_range = True
    (tmp_path / "f.part").write_bytes(b"XXXX")  # stale partial file
    path = download(RemoteFile("f", server.url + "/f", _md5(body)), tmp_path)
    assert path.read_bytes() == body


def test_complete_part_file_is_finished(server, tmp_path):
    body = b"0123456789" * 10
    server.files["/f"] = body
    (tmp_path / "f.part").write_bytes(body)  # all bytes there, rename was interrupted
    path = download(RemoteFile("f", server.url + "/f", _md5(body)), tmp_path)
    assert path.read_bytes() == body


def test_bad_checksum_deletes_file(server, tmp_path):
    server.files["/f"] = b"tampered"
    remote = RemoteFile("f", server.url + "/f", _md5(b"original"))
    with pytest.raises(DownloadError, match="checksum"):
        download(remote, tmp_path)
    assert not (tmp_path / "f").exists() and not (tmp_path / "f.part").exists()


def test_unknown_checksum_recorded_on_first_download(server, tmp_path):
    server.files["/f"] = b"first version"
    remote = RemoteFile("f", server.url + "/f", None)
    path = download(remote, tmp_path)
    record = tmp_path / "f.sha256"
    assert record.read_text().strip() == hashlib.sha256(b"first version").hexdigest()
    path.write_bytes(b"corrupted later")  # the recorded checksum catches this
    server.files["/f"] = b"first version"
    assert download(remote, tmp_path).read_bytes() == b"first version"


def test_http_error_and_offline_messages(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download(RemoteFile("g", server.url + "/missing", None), tmp_path)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="internet connection"):
        download(RemoteFile("g", f"http://127.0.0.1:{port}/g", None), tmp_path, timeout=5)


def test_progress_bar(server, tmp_path):
    server.files["/f"] = b"x" * 50_000
    out = io.StringIO()
    download(RemoteFile("f", server.url + "/f", None), tmp_path, progress=True, stream=out)
    assert "f: [" in out.getvalue() and "100.0%" in out.getvalue()


def _dermamnist_npz() -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    arrays = {}
    for split, n in (("train", 14), ("val", 4), ("test", 6)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28, 3), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 7).reshape(-1, 1).astype(np.uint8)
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_fetch_dermamnist_from_local_server(server, tmp_path, monkeypatch):
    body = _dermamnist_npz()
    server.files["/dermamnist.npz"] = body
    monkeypatch.setitem(
        fetch.DERMAMNIST,
        28,
        RemoteFile("dermamnist.npz", server.url + "/dermamnist.npz", _md5(body)),
    )
    monkeypatch.setenv("SKINLESION_DATA", str(tmp_path))
    data = fetch_dermamnist(28)
    assert data.images.shape == (14, 28, 28, 3) and data.images.dtype == np.uint8
    assert list(data.target[:2]) == ["actinic keratosis", "basal cell carcinoma"]
    assert (tmp_path / "dermamnist" / "dermamnist.npz").is_file()
    X, y = fetch_dermamnist(28, subset="all", labels="code", return_X_y=True)
    assert X.shape[0] == 24 and y[4] == "mel"
    with pytest.raises(ValueError, match="size"):
        fetch_dermamnist(32)


def test_fetch_dermamnist_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing"):
        fetch_dermamnist(28, data_home=tmp_path, download_if_missing=False)


def _zip_of_images(names: list[str], seed: int) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            img = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (15, 20, 3), dtype=np.uint8)).save(img, "JPEG")
            zf.writestr(name, img.getvalue())
        zf.writestr("../evil.txt", "outside")  # never written outside the folder
    return buf.getvalue()


def test_fetch_ham10000_from_local_dataverse(server, tmp_path, monkeypatch):
    part1 = _zip_of_images(["ISIC_0000000.jpg", "ISIC_0000001.jpg"], 1)
    part2 = _zip_of_images(["sub/ISIC_0000002.jpg"], 2)
    meta = (
        b"lesion_id,image_id,dx,dx_type,age,sex,localization\n"
        b"HAM_1,ISIC_0000000,mel,histo,50,male,back\n"
        b"HAM_1,ISIC_0000001,mel,histo,50,male,back\n"
        b"HAM_2,ISIC_0000002,nv,histo,30,female,face\n"
    )
    listing = {
        "data": {
            "latestVersion": {
                "files": [
                    {
                        "dataFile": {
                            "id": 11,
                            "filename": "HAM10000_images_part_1.zip",
                            "md5": hashlib.md5(part1).hexdigest(),
                        }
                    },
                    {
                        "dataFile": {
                            "id": 12,
                            "filename": "HAM10000_images_part_2.zip",
                            "md5": hashlib.md5(part2).hexdigest(),
                        }
                    },
                    {
                        "dataFile": {
                            "id": 13,
                            "filename": "HAM10000_metadata.tab",
                            "originalFileName": "HAM10000_metadata.csv",
                            "md5": hashlib.md5(meta).hexdigest(),
                        }
                    },
                ]
            }
        }
    }
    server.files[f"/api/datasets/:persistentId/?persistentId={fetch.HAM10000_DOI}"] = json.dumps(
        listing
    ).encode()
    for fid, body in ((11, part1), (12, part2), (13, meta)):
        server.files[f"/api/access/datafile/{fid}?format=original"] = body
    monkeypatch.setattr(fetch, "DATAVERSE_URL", server.url)

    data = fetch_ham10000(data_home=tmp_path)
    assert list(data.target) == ["mel", "mel", "nv"]
    assert list(data.groups) == ["HAM_1", "HAM_1", "HAM_2"]
    assert all(Path(p).parent == tmp_path / "ham10000" / "images" for p in data.paths)
    assert not (tmp_path / "ham10000" / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    n = len(server.requests)
    again = fetch_ham10000(data_home=tmp_path, image_size=8, as_paths=False)
    assert again.images.shape == (3, 8, 8, 3)
    assert len(server.requests) == n  # nothing downloaded the second time


def test_fetch_ham10000_offline(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(fetch, "DATAVERSE_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadError, match="internet connection"):
        fetch_ham10000(data_home=tmp_path, timeout=5)
    with pytest.raises(FileNotFoundError, match="download_if_missing"):
        fetch_ham10000(data_home=tmp_path, download_if_missing=False)
