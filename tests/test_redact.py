import pandas as pd
import pytest

from textmine.redact import redact, redact_text

PLANTED = {
    "<EMAIL>": ["anna.virtanen@example.com", "j_doe+migri@mail.co.uk"],
    "<PHONE>": ["040 123 4567", "+358 50 987 6543", "+46 70 123 45 67", "09 1234 5678", "0401234567"],
    "<HETU>": ["131052-308T", "010101A123N"],
    "<PERSONNUMMER>": ["19811228-9874", "811228-9874"],
    "<IBAN>": ["FI21 1234 5600 0007 85", "SE4550000000058398257466"],
    "<CASE_ID>": ["Dnro 1234/2019", "diary number MIG-2019-55521", "hakemusnumero 88812345"],
}


@pytest.mark.parametrize("placeholder,value", [(p, v) for p, vs in PLANTED.items() for v in vs])
def test_each_kind_is_replaced(placeholder: str, value: str):
    out = redact_text(f"Contact: {value} thanks")
    assert placeholder in out
    assert value not in out
    digits = "".join(ch for ch in value if ch.isdigit())
    assert not digits or digits[-4:] not in out.replace(" ", "")


@pytest.mark.parametrize("text", [
    "I waited 9 months, from 12.3.2024 to 01.12.2024.",
    "Mean 3,84 is fine, 2 000 euros is too much",
    "Odotin 120 päivää ja maksoin 480 €",
    "Beslutet kom 2023-05-17 efter 14 veckor",
    "Hetu-like but invalid: 131052-308A",
])
def test_ordinary_numbers_are_kept(text: str):
    assert redact_text(text) == text


def test_iban_followed_by_capitals_keeps_the_word():
    assert redact_text("FI21 1234 5600 0007 85 OK") == "<IBAN> OK"


def test_redact_frame_keeps_index_order_and_missing():
    df = pd.DataFrame({"t": ["mail a@b.fi", None, "no data"], "n": [1, 2, 3]}, index=[5, 3, 9])
    out = redact(df)
    assert list(out.index) == [5, 3, 9]
    assert out["t"].tolist()[0] == "mail <EMAIL>"
    assert pd.isna(out["t"].tolist()[1])
    assert out["n"].tolist() == [1, 2, 3]
    assert df["t"].tolist()[0] == "mail a@b.fi"  # input untouched


def test_many_texts_at_once_match_one_by_one():
    """redact_texts only looks closely at texts a cheap scan flags: it must change exactly what
    redact_text changes, including a value at the very start or end of a text."""
    from textmine.redact import redact_texts

    values = [v for vs in PLANTED.values() for v in vs]
    texts = [f"Contact: {v} thanks" for v in values] + values + [f"{v}." for v in values]
    texts += ["plain text", "", "9 months", "Dnro without id 12", "Case closed in 2024", "ÄRENDENUMMER 12345/2020",
              "ſome caſe number 1234567", "x\x00anna@example.com", "FI21 1234 5600 0007 85 OK", "İİİ 040 123 4567"]
    assert redact_texts(texts) == [redact_text(t) for t in texts]
    assert redact_texts([None, float("nan"), 12]) == ["", "", "12"]


def test_common_case_words_alone_do_not_send_a_text_to_the_full_patterns():
    from textmine.redact import _may_hold_personal_data, redact_texts

    texts = ["My application took 9 months", "In my case 3 letters were lost", "application number 2024/123456",
             "Case no. AB12345", "hakemusnumero 123/456/2024", "ärendenummer: 7788-99", "ansökningsnummer OK 12"]
    assert _may_hold_personal_data(texts) == {2, 3, 4, 5}  # "OK 12" is too short for a case id
    assert [redact_texts([t])[0] for t in texts] == [redact_text(t) for t in texts]
