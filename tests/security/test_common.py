import pytest

from apps.designs.engine import receivers
from apps.designs.engine.text import Prefiltered
from apps.security.engine.rules import stories

_PREFILTERED = {
    "credential check": stories._CREDENTIAL_CHECK,
    "receiver words": receivers.RECEIVER_WORDS,
}

_TEXTS = [
    "",
    "/v1/accounts/{account}/login_links PostAccountsAccountLoginLinks Create a login link",
    "/auth/Log-In signIn Sign-On one-time OneTime PASSCODE pin pins Password tokens Authenticate 2FA MFA OTP",
    "/verify VerifyCode verification-email verify_phone verif",
    "/webhooks Web-Hook callBack call-back hooks IPN inbound Incoming receives Received consumed",
    "/users/{id} Get user Lists the users of the tenant",
    "spin tokenize opinion phone none passive",
    # Not ASCII: a few letters ignore their case into ASCII ones (the long s, the Kelvin sign).
    "/pa\u017f\u017fword lo\u0261in \u212aey \u017fign-in",
    "Tok\u0117n caf\u00e9 re\u00e7eive",
]


@pytest.mark.parametrize("name", sorted(_PREFILTERED))
def test_a_prefiltered_pattern_finds_what_its_pattern_finds(name: str) -> None:
    prefiltered = _PREFILTERED[name]
    # Each word of the texts alone, too: every alternative of the patterns is spelt there.
    for text in _TEXTS + [word for line in _TEXTS for word in line.split()]:
        for variant in (text, text.upper(), text.title()):
            expected = prefiltered.pattern.search(variant)
            found = prefiltered.search(variant)
            assert (found and found.span()) == (expected and expected.span()), variant


def test_ascii_text_without_a_needle_is_refused_without_the_pattern() -> None:
    calls = []

    class Pattern:
        def search(self, text: str) -> None:
            calls.append(text)

    prefiltered = Prefiltered(Pattern(), ("token",))  # type: ignore[arg-type]
    assert prefiltered.search("List the users") is None
    assert calls == []
    prefiltered.search("Refresh a TOKEN")
    prefiltered.search("caf\u00e9")
    assert calls == ["Refresh a TOKEN", "caf\u00e9"]
