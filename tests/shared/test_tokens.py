"""TokenCore and token_from_header: issuing, verifying, rotating keys, reading the header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from shared.errors import Unauthorized
from shared.settings import JWTSettings
from shared.timefmt import utcnow
from shared.tokens import TokenCore, token_from_header

# Long enough for HS256 and HS512 (PyJWT warns about shorter HMAC keys; warnings are errors).
KEY = "current-key-0123456789-0123456789-0123456789-0123456789-0123456789"
OLD_KEY = "older-key-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij"
LEEWAY = 30


def _core(
    *, secret: str = KEY, kid: str = "k1", previous: dict[str, str] | None = None
) -> TokenCore:
    return TokenCore(
        JWTSettings(
            secret=secret,
            kid=kid,
            previous_keys=previous or {},
            leeway_seconds=LEEWAY,
            ttl_seconds=60,
        )
    )


def _claims(**changes: Any) -> dict[str, Any]:
    """The claims TokenCore issues, with ``changes`` applied (None removes a claim)."""
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": "42",
        "iat": now,
        "exp": now + timedelta(seconds=60),
        "iss": "conduit-gateway",
        "aud": "conduit",
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


def _encode(claims: dict[str, Any], *, key: str = KEY, kid: str = "k1", alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _reason(exc: pytest.ExceptionInfo[Unauthorized]) -> str:
    [message] = exc.value.errors["token"]
    return message


# -- round trip ---------------------------------------------------------------------------


def test_issue_then_verify_gives_the_user_id_and_kid() -> None:
    core = _core()

    claims = core.verify(core.issue(7))

    assert claims.user_id == 7
    assert claims.kid == "k1"


def test_issued_token_names_its_key_and_uses_hs256() -> None:
    token = _core(kid="k9").issue(1)

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, KEY, algorithms=["HS256"], audience="conduit")

    assert header["kid"] == "k9"
    assert header["alg"] == "HS256"
    assert payload["sub"] == "1"
    assert payload["iss"] == "conduit-gateway"
    assert payload["exp"] - payload["iat"] == 60


def test_a_hand_made_token_with_the_same_claims_verifies() -> None:
    # Guards the negative tests below: their tokens differ from this one in one respect only.
    assert _core().verify(_encode(_claims())).user_id == 42


# -- expiry -------------------------------------------------------------------------------


def test_token_expired_beyond_the_leeway_is_rejected() -> None:
    now = utcnow()
    token = _encode(
        _claims(iat=now - timedelta(seconds=600), exp=now - timedelta(seconds=LEEWAY + 30))
    )

    with pytest.raises(Unauthorized) as exc:
        _core().verify(token)

    assert _reason(exc) == "has expired"
    assert exc.value.status_code == 401


def test_token_expired_within_the_leeway_is_accepted() -> None:
    now = utcnow()
    token = _encode(
        _claims(iat=now - timedelta(seconds=600), exp=now - timedelta(seconds=LEEWAY - 20))
    )

    assert _core().verify(token).user_id == 42


# -- claims -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
        pytest.param({"sub": None}, id="missing-sub"),
        pytest.param({"exp": None}, id="missing-exp"),
        pytest.param({"iat": None}, id="missing-iat"),
        pytest.param({"aud": None}, id="missing-aud"),
        pytest.param({"iss": None}, id="missing-iss"),
        pytest.param({"sub": "abc"}, id="non-integer-sub"),
        pytest.param({"sub": "4.2"}, id="fractional-sub"),
    ],
)
def test_token_with_bad_claims_is_rejected(changes: dict[str, Any]) -> None:
    token = _encode(_claims(**changes))

    with pytest.raises(Unauthorized) as exc:
        _core().verify(token)

    assert _reason(exc) == "is invalid"


# -- signature and algorithm --------------------------------------------------------------


def test_tampered_signature_is_rejected() -> None:
    token = _core().issue(42)
    head, body, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    with pytest.raises(Unauthorized) as exc:
        _core().verify(f"{head}.{body}.{flipped}")

    assert _reason(exc) == "is invalid"


def test_tampered_payload_is_rejected() -> None:
    token = _core().issue(42)
    head, _, signature = token.split(".")
    payload = jwt.decode(token, KEY, algorithms=["HS256"], audience="conduit")
    forged = _b64(json.dumps({**payload, "sub": "1"}).encode())

    with pytest.raises(Unauthorized):
        _core().verify(f"{head}.{forged}.{signature}")


def test_token_signed_with_another_secret_under_the_same_kid_is_rejected() -> None:
    with pytest.raises(Unauthorized) as exc:
        _core().verify(_encode(_claims(), key=OLD_KEY))

    assert _reason(exc) == "is invalid"


def test_alg_none_token_is_rejected() -> None:
    token = jwt.encode(_claims(), None, algorithm="none", headers={"kid": "k1"})
    assert jwt.get_unverified_header(token)["alg"] == "none"

    with pytest.raises(Unauthorized) as exc:
        _core().verify(token)

    assert _reason(exc) == "is invalid"


def test_hs512_token_with_the_right_key_is_rejected() -> None:
    token = _encode(_claims(), alg="HS512")

    with pytest.raises(Unauthorized) as exc:
        _core().verify(token)

    assert _reason(exc) == "is invalid"


def test_token_claiming_rs256_but_hmac_signed_is_rejected() -> None:
    # Key confusion: an RS256 header over an HMAC made with the shared secret.
    claims = jwt.decode(_encode(_claims()), KEY, algorithms=["HS256"], audience="conduit")
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(KEY.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()

    with pytest.raises(Unauthorized) as exc:
        _core().verify(f"{header}.{body}.{_b64(mac)}")

    assert _reason(exc) == "is invalid"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b"])
def test_malformed_token_is_rejected(token: str) -> None:
    with pytest.raises(Unauthorized):
        _core().verify(token)


# -- keys and rotation --------------------------------------------------------------------


def test_token_from_a_previous_key_verifies_after_rotation() -> None:
    token = _core(secret=OLD_KEY, kid="old").issue(5)
    rotated = _core(secret=KEY, kid="new", previous={"old": OLD_KEY})

    claims = rotated.verify(token)

    assert claims.user_id == 5
    assert claims.kid == "old"
    assert jwt.get_unverified_header(rotated.issue(5))["kid"] == "new"


def test_token_from_a_removed_key_is_rejected() -> None:
    token = _core(secret=OLD_KEY, kid="old").issue(5)

    with pytest.raises(Unauthorized) as exc:
        _core(secret=KEY, kid="new").verify(token)

    assert _reason(exc) == "is signed with an unknown key"


def test_token_with_an_unknown_kid_is_rejected() -> None:
    with pytest.raises(Unauthorized) as exc:
        _core().verify(_encode(_claims(), kid="nobody"))

    assert _reason(exc) == "is signed with an unknown key"


def test_token_without_a_kid_is_rejected() -> None:
    token = jwt.encode(_claims(), KEY, algorithm="HS256")

    with pytest.raises(Unauthorized) as exc:
        _core().verify(token)

    assert _reason(exc) == "is signed with an unknown key"


def test_previous_key_cannot_be_used_under_another_kid() -> None:
    core = _core(secret=KEY, kid="new", previous={"old": OLD_KEY})

    with pytest.raises(Unauthorized):
        core.verify(_encode(_claims(), key=OLD_KEY, kid="new"))


def test_core_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="no secret"):
        TokenCore(JWTSettings())


# -- Authorization header -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Token x", "x"),
        ("Bearer x", "x"),
        ("token abc.def.ghi", "abc.def.ghi"),
        ("  Token   x  ", "x"),
    ],
)
def test_token_from_header_reads_the_token(header: str, token: str) -> None:
    assert token_from_header(header) == token


@pytest.mark.parametrize("header", [None, ""])
def test_token_from_header_without_a_header_is_none(header: str | None) -> None:
    assert token_from_header(header) is None


@pytest.mark.parametrize("header", ["Token", "Token ", "Bearer   ", "Basic x", "x"])
def test_token_from_header_rejects_a_malformed_header(header: str) -> None:
    with pytest.raises(Unauthorized):
        token_from_header(header)


def test_legacy_schemes_reject_bearer() -> None:
    assert token_from_header("Token x", schemes=("token",)) == "x"

    with pytest.raises(Unauthorized) as exc:
        token_from_header("Bearer x", schemes=("token",))

    assert exc.value.status_code == 401
