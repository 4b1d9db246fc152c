"""HTTP/1.1 answers as a raw-socket test receives them: parsed from the bytes a server sent."""

from __future__ import annotations

Answer = tuple[int, dict[str, str], bytes]


def parsed_head(head: bytes) -> tuple[int, dict[str, str]]:
    """The status and headers (names lowercased) of an answer's head."""
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers


def parsed_answers(data: bytes) -> list[Answer]:
    """Each answer in ``data``, in order, its body as long as its Content-Length says."""
    answers = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status, headers = parsed_head(head)
        length = int(headers["content-length"])
        answers.append((status, headers, data[:length]))
        data = data[length:]
    return answers
