#!/usr/bin/env python3
"""Regenerate the nasty input files in this folder (python make_messy.py).

Each file imitates something analysts really receive; tests/test_files.py says what
textmine must make of each one.
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
ROWS = [
    ("r1", "work", "4", "Käsittely kesti liian kauan, yhdeksän kuukautta."),
    ("r2", "study", "3,5", "Ingen svarade i telefon på två veckor."),
    ("r3", "family", "5", "Thank you, everything went smoothly!"),
    ("r4", "work", "2", "Päätöstä ei vieläkään ole, kukaan ei kerro mitään."),
    ("r5", "study", "0", ""),
]


def csv_text(sep: str, rows=ROWS, header=("respondent_id", "permit_type", "overall", "improvement")) -> str:
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in (sep, '"', "\n", "\r")) else v
    return "\r\n".join(sep.join(q(v) for v in row) for row in [header, *rows]) + "\r\n"


def main() -> None:
    (HERE / "semicolon_cp1252.csv").write_bytes(csv_text(";").encode("cp1252"))
    (HERE / "utf8_bom.csv").write_bytes(b"\xef\xbb\xbf" + csv_text(",").encode("utf-8"))
    (HERE / "excel_unicode_text.txt").write_bytes(csv_text("\t").encode("utf-16"))
    (HERE / "latin1_pipe.csv").write_bytes(csv_text("|").encode("latin-1"))
    multiline = [("m1", "work", "4", 'Line one\nline two, with a comma and "quotes"'),
                 ("m2", "study", "2", "Short"), ("m3", "other", "5", "Kolme\r\nriviä\r\nvastausta")]
    (HERE / "multiline_quoted.csv").write_text(csv_text(",", multiline), encoding="utf-8", newline="")
    trailing = csv_text(",").replace("\r\n", ",,,\r\n")
    (HERE / "trailing_empty_columns.csv").write_text(trailing, encoding="utf-8", newline="")
    scores = [("s1", "work", "5 - very good", "ok"), ("s2", "work", "4,0", "fine"), ("s3", "study", " 3 ", "slow"),
              ("s4", "study", "EOS", "en tiedä"), ("s5", "family", "en osaa sanoa", "-"), ("s6", "family", "7", "hmm"),
              ("s7", "work", "abc", "x"), ("s8", "other", "Vet ej", "nej"), ("s9", "other", "", "")]
    (HERE / "scores_as_text.csv").write_text(csv_text(",", scores), encoding="utf-8", newline="")
    (HERE / "header_only.csv").write_text("respondent_id,overall,improvement\n", encoding="utf-8")
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "blank_lines.csv").write_text("\n\n   \n\n", encoding="utf-8")
    dup = ROWS + [("r2", "work", "4", "Toinen vastaus samalla tunnuksella"), ("r3", "work", "5", "Kiitos")]
    (HERE / "duplicate_ids.csv").write_text(csv_text(",", dup), encoding="utf-8", newline="")
    frame = pd.DataFrame(ROWS, columns=["respondent_id", "permit_type", "overall", "improvement"])
    with pd.ExcelWriter(HERE / "two_sheets.xlsx") as xl:
        pd.DataFrame({"note": ["exported 2019-05-02"]}).to_excel(xl, sheet_name="Info", index=False)
        frame.to_excel(xl, sheet_name="Answers", index=False)
    frame.to_parquet(HERE / "survey.parquet", index=False)
    frame.to_json(HERE / "survey.jsonl", orient="records", lines=True, force_ascii=False)
    (HERE / "broken.jsonl").write_text('{"respondent_id": "a", "overall": 4}\n{"respondent_id": "b", "overall": \n', encoding="utf-8")
    (HERE / "survey.ods").write_bytes(b"PK\x03\x04 not really an ods")
    ragged = "respondent_id,overall,improvement\nq1,4,fine\nq2,3,too,many,fields,here\n"
    (HERE / "ragged.csv").write_text(ragged, encoding="utf-8")
    (HERE / "mac_newlines.csv").write_text(csv_text(",").replace("\r\n", "\r"), encoding="utf-8", newline="")
    emoji = [("e1", "work", "5", "Super 👍👍 kiitos!"), ("e2", "study", "1", "\u200bzero\u200bwidth and tab\there"),
             ("e3", "family", "3", "😡😡😡"), ("e4", "work", "4", "ＦＵＬＬＷＩＤＴＨ text")]
    (HERE / "emoji_and_invisible.csv").write_text(csv_text(",", emoji), encoding="utf-8", newline="")
    (HERE / "not_utf8_declared.csv").write_bytes(csv_text(",").encode("cp1252"))
    print("wrote", len(list(HERE.glob("*"))) - 1, "files")


if __name__ == "__main__":
    main()
