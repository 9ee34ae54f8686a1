"""Reading and checking input files, and writing outputs atomically.

One reader serves every command: CSV (delimiter and encoding detected), XLSX,
Parquet and JSONL. Every cell is read as text so that nothing is lost or guessed
("0" don't-know codes, ids with leading zeros); scores are parsed by
:func:`parse_scores`.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from ._config import setting
from .errors import TextmineError

READ_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet", ".jsonl", ".ndjson")
WRITE_SUFFIXES = (".csv", ".xlsx", ".parquet", ".jsonl")
DELIMITERS = ",;\t|"

PathLike = str | os.PathLike[str]


# -- reading ------------------------------------------------------------------------
def _check_path(path: PathLike) -> Path:
    p = Path(path)
    if p.is_dir():
        raise TextmineError("E002", path=str(p))
    if not p.exists():
        raise TextmineError("E001", path=str(p))
    if p.suffix.lower() not in READ_SUFFIXES:
        raise TextmineError("E003", suffix=p.suffix or "(none)", path=str(p))
    if p.stat().st_size == 0:
        raise TextmineError("E004", path=str(p))
    return p


def detect_encoding(raw: bytes) -> str:
    """The encoding of ``raw``: a byte-order mark, else UTF-8 if it decodes, else charset-normalizer's guess."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = raw[:4000]
    if head.count(b"\x00") > len(head) // 4:  # UTF-16 without a byte-order mark
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Older Excel exports: a Western single-byte code page.
    best = from_bytes(raw[:200_000], cp_isolation=["cp1252", "iso8859_15", "latin_1"]).best()
    return best.encoding if best is not None else "cp1252"


def detect_delimiter(text: str) -> str:
    """The field delimiter among ``, ; TAB |``: the one that splits the sample into the most consistent columns."""
    sample = text[:65536]
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _empty_trailing(df: pd.DataFrame) -> list[str]:
    """Unnamed, empty columns at the end (trailing delimiters in Excel exports)."""
    cols = list(df.columns)
    drop = []
    while cols and (str(cols[-1]).startswith("Unnamed:") or str(cols[-1]).strip() == "") and df[cols[-1]].isna().all():
        drop.append(str(cols.pop()))
    return drop


def _csv_chunks(path: Path, encoding: str | None, delimiter: str | None, chunk_size: int | None) -> Iterator[pd.DataFrame]:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    enc = encoding or detect_encoding(head)
    try:
        sample = head.decode(enc, errors="strict" if len(head) < (1 << 20) else "ignore")
    except (UnicodeDecodeError, LookupError):
        raise TextmineError("E012", path=str(path), encoding=enc) from None
    sample = sample.lstrip("\ufeff")
    if not sample.strip():
        raise TextmineError("E004", path=str(path))
    sep = delimiter or detect_delimiter(sample)
    kind = f"CSV (delimiter {sep!r}, encoding {enc})"
    try:
        reader = pd.read_csv(
            path, sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_values=[""],
            engine="python" if len(sep) > 1 else "c", chunksize=chunk_size or (1 << 62),
        )
        with reader:
            yield from reader
    except UnicodeDecodeError:
        raise TextmineError("E012", path=str(path), encoding=enc) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise TextmineError("E006", path=str(path), kind=kind, reason=" ".join(str(exc).split())) from None


def _excel_frame(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise TextmineError("E006", path=str(path), kind="XLSX", reason=" ".join(str(exc).split())) from None
    names = book.sheet_names
    if sheet is None:
        target: str | int = 0
    elif isinstance(sheet, str) and sheet not in names:
        if sheet.isdigit() and int(sheet) < len(names):
            target = int(sheet)
        else:
            raise TextmineError("E008", sheet=sheet, path=str(path), sheets=names)
    else:
        target = sheet
    return book.parse(target, dtype=str, keep_default_na=False, na_values=[""])


def _other_chunks(path: Path, suffix: str, chunk_size: int | None) -> Iterator[pd.DataFrame]:
    kind = "Parquet" if suffix == ".parquet" else "JSON lines"
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            if pf.metadata.num_rows == 0:
                yield pf.schema_arrow.empty_table().to_pandas()
            for batch in pf.iter_batches(batch_size=chunk_size or max(1, pf.metadata.num_rows)):
                yield batch.to_pandas()
        else:
            with pd.read_json(path, lines=True, dtype=False, convert_dates=False, chunksize=chunk_size or (1 << 62)) as reader:
                yield from reader
    except TextmineError:
        raise
    except Exception as exc:  # pyarrow and the json reader raise many kinds
        raise TextmineError("E006", path=str(path), kind=kind, reason=" ".join(str(exc).split())[:300]) from None


def iter_table(
    path: PathLike,
    *,
    chunk_size: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> Iterator[pd.DataFrame]:
    """Read a file in chunks of at most ``chunk_size`` rows (all at once when None).

    Chunks have consecutive integer indexes (0, 1, ... across chunks) and the same
    columns; CSV, Parquet and JSONL are streamed, XLSX is read whole and then sliced.
    Options and errors as for :func:`read_table`.
    """
    p = _check_path(path)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        chunks: Iterator[pd.DataFrame] = _csv_chunks(p, encoding, delimiter, chunk_size)
    elif suffix in (".xlsx", ".xlsm"):
        frame = _excel_frame(p, sheet)
        step = chunk_size or max(1, len(frame))
        chunks = iter([frame.iloc[i : i + step] for i in range(0, max(1, len(frame)), step)])
    else:
        chunks = _other_chunks(p, suffix, chunk_size)
    offset = 0
    drop: list[str] | None = None
    for chunk in chunks:
        chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
        if drop is None:
            drop = _empty_trailing(chunk)
            if len(chunk.columns) == len(drop):
                raise TextmineError("E004", path=str(p))
            if len(chunk) == 0:
                raise TextmineError("E005", path=str(p))
        chunk = chunk.drop(columns=drop)
        chunk.index = pd.RangeIndex(offset, offset + len(chunk))
        offset += len(chunk)
        if len(chunk):
            yield chunk
    if drop is None:
        raise TextmineError("E005", path=str(p))


def read_table(
    path: PathLike,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a survey export or labelled corpus into a DataFrame of text cells.

    Parameters
    ----------
    path:
        A .csv/.tsv/.txt, .xlsx, .parquet or .jsonl file; the format comes from the extension.
    encoding, delimiter:
        Override the detected CSV encoding and field delimiter.
    sheet:
        XLSX sheet name or 0-based position; default the first sheet.

    Raises
    ------
    TextmineError
        E001-E008, E012 with a message that says how to fix the problem.
    """
    chunks = list(iter_table(path, encoding=encoding, delimiter=delimiter, sheet=sheet))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


def require_columns(df: pd.DataFrame, columns: Sequence[str], *, what: str = "Column") -> None:
    """Raise E007 listing every missing column at once, and the columns that exist."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        label = f"{what}s" if len(missing) > 1 else what
        verb = "are" if len(missing) > 1 else "is"
        raise TextmineError("E007", what=f"{label} {names}", missing=verb, columns=list(map(str, df.columns)))


def _is_numeric_text(value: str) -> bool:
    return bool(re.fullmatch(r"\s*[-+]?\d+(?:[.,]\d+)?\s*", value))


def find_text_column(df: pd.DataFrame) -> str:
    """The free-text column: the one whose non-numeric strings are longest on average."""
    best, best_len = None, 0.0
    for col in df.columns:
        values = df[col].dropna()
        values = values[values.map(lambda v: isinstance(v, str))]
        values = values[~values.map(_is_numeric_text)]
        if values.empty:
            continue
        mean_len = float(values.str.len().mean()) * len(values) / max(1, len(df))
        if mean_len > best_len:
            best, best_len = col, mean_len
    if best is None or best_len < 3:
        raise TextmineError("E009", columns=list(map(str, df.columns)))
    return str(best)


# -- scores -------------------------------------------------------------------------
_LEADING_NUMBER = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)(?:\s*$|\s*[-–:=)(/ ]\s*\D)")


@dataclass
class ParsedScores:
    """A score column parsed: ``values`` on the scale (NaN otherwise), and what was set aside."""

    values: pd.Series
    dont_know: pd.Series
    problems: list[tuple[int, str]] = field(default_factory=list)


def dont_know_codes(codes: Sequence[str] | None = None) -> frozenset[str]:
    """The configured "don't know" codes, folded to lower case."""
    return frozenset(str(c).strip().lower() for c in (codes if codes is not None else setting("summary", "dont_know")))


def parse_scores(
    series: pd.Series,
    *,
    dont_know: Sequence[str] | None = None,
    scale: tuple[float, float] | None = None,
) -> ParsedScores:
    """Parse one score column: "5 - very good", "4,0" and " 3 " become numbers.

    Values outside ``scale`` that are not don't-know codes are listed in ``problems``
    as (spreadsheet row number, value) and treated as missing.
    """
    lo, hi = scale or (setting("summary", "scale_min"), setting("summary", "scale_max"))
    codes = dont_know_codes(dont_know)
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "floating", "integer", "empty"):
        # one type throughout: parse each distinct value once (a score column has a handful)
        positions, found = pd.factorize(series, use_na_sentinel=True)
        distinct = list(found)
    else:  # mixed types (factorize would take 1 and True for one value): every value on its own
        positions, distinct = np.arange(len(series)), series.tolist()
    number_u, dk_u, problem_u = _parse_values(distinct, codes, lo, hi)
    take = np.where(positions >= 0, positions, len(distinct))  # missing -> the extra slot
    values = np.append(number_u, np.nan)[take]
    dk = np.append(dk_u, False)[take]
    bad = np.flatnonzero(np.append(problem_u, False)[take])
    problems = [(int(i) + 2, str(distinct[positions[i]]).strip()) for i in bad]
    return ParsedScores(pd.Series(values, index=series.index), pd.Series(dk, index=series.index), problems)


def _parse_values(raws: list[Any], codes: frozenset[str], lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per value: the score (NaN if none), whether it is a don't-know code, whether it is a problem."""
    n = len(raws)
    values = np.full(n, np.nan)
    dk = np.zeros(n, dtype=bool)
    problem = np.zeros(n, dtype=bool)
    for i, raw in enumerate(raws):
        if raw is None or (isinstance(raw, float) and np.isnan(raw)):
            continue
        text = str(raw).strip()
        if not text:
            continue
        number: float | None = None
        if isinstance(raw, (int, float, np.integer, np.floating)) and not isinstance(raw, bool):
            number = float(raw)
        else:
            m = _LEADING_NUMBER.match(text)
            if m:
                number = float(m.group(1).replace(",", "."))
        key = text.lower()
        if number is not None and float(number).is_integer():
            key = str(int(number))
        if key in codes or text.lower() in codes:
            dk[i] = True
        elif number is not None and lo <= number <= hi:
            values[i] = number
        else:
            problem[i] = True
    return values, dk, problem


# -- writing ------------------------------------------------------------------------
def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: PathLike, *, force: bool = False, inputs: Sequence[PathLike] = ()) -> Path:
    """Raise if ``path`` is an input file (E021) or exists without ``force`` (E020)."""
    p = Path(path)
    for source in inputs:
        if _same_file(p, Path(source)) or p.resolve() == Path(source).resolve():
            raise TextmineError("E021", path=str(p))
    if p.exists() and not force:
        raise TextmineError("E020", path=str(p))
    return p


def _temporary_beside(path: Path) -> str:
    """An empty temporary file in ``path``'s folder (so the final rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return tmp


def _publish(tmp: str, path: Path) -> None:
    """Give the finished temporary file the usual permissions and rename it into place."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def atomic_write(path: PathLike, write: Callable[[str], object]) -> None:
    """Call ``write(temporary_path)`` on a temporary file beside ``path``, then rename it into place."""
    p = Path(path)
    tmp = _temporary_beside(p)
    try:
        write(tmp)
        _publish(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


_FOUR_DECIMALS = np.array([repr(k / 10_000) for k in range(10_001)], dtype=object)
_FEW_VALUES = 1000  # distinct values up to which a float column is formatted once per value


def _fast_floats(df: pd.DataFrame) -> pd.DataFrame:
    """Float columns as the very strings pandas' CSV writer gives them, looked up instead of
    formatted value by value: probabilities (all values in 0-1 with at most four decimals)
    from a table, and columns of few distinct values (scores 1-5, missing as "") by
    formatting each distinct value once, with pandas itself."""
    out = None
    for col in df.columns[[dt == np.float64 for dt in df.dtypes]]:
        values = df[col].to_numpy()
        k = np.rint(values * 10_000)
        if np.all((k >= 0) & (k <= 10_000) & ~np.signbit(values)) and np.array_equal(k / 10_000, values):
            strings = _FOUR_DECIMALS[k.astype(np.int64)]
        else:
            if np.any((values == 0) & np.signbit(values)):  # -0.0 would meet 0.0 below but is written apart
                continue
            distinct, inverse = np.unique(values, return_inverse=True)  # NaNs are one value at the end
            if len(distinct) > _FEW_VALUES:
                continue
            # beside a second column, so that a missing value is written "" as in the table
            formatted = pd.DataFrame({"v": distinct, "w": 0}).to_csv(header=False, index=False).splitlines()
            strings = np.array([f[: -len(",0")] for f in formatted], dtype=object)[np.asarray(inverse).reshape(-1)]
        out = df.copy() if out is None else out
        out[col] = strings
    return df if out is None else out


def encode_chunk(df: pd.DataFrame, suffix: str, *, header: bool) -> bytes | pd.DataFrame:
    """A chunk of rows as :class:`TableWriter` appends it: CSV and JSONL as bytes (the costly
    formatting can happen in a worker process), other formats as the frame itself."""
    if suffix == ".csv":
        return _fast_floats(df).to_csv(header=header, index=False).encode("utf-8")
    if suffix == ".jsonl":
        text = df.to_json(orient="records", lines=True, force_ascii=False) if len(df) else ""
        return (text if not text or text.endswith("\n") else text + "\n").encode("utf-8")
    return df


class TableWriter:
    """Write a table chunk by chunk to a temporary file, renamed into place on success.

    CSV, Parquet and JSONL are written as chunks arrive (bounded memory); XLSX is
    collected and written at the end. Refuses to write over an input file, and over
    an existing file unless ``force``. Use as a context manager.
    """

    def __init__(self, path: PathLike, *, force: bool = False, inputs: Sequence[PathLike] = ()) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in WRITE_SUFFIXES:
            raise TextmineError("E022", suffix=self.suffix or "(none)", path=str(self.path))
        check_output(self.path, force=force, inputs=inputs)
        self._tmp = _temporary_beside(self.path)
        self.rows = 0
        self._parquet: Any = None
        self._frames: list[pd.DataFrame] = []

    def write(self, df: pd.DataFrame) -> None:
        """Append the rows of ``df`` (same columns as the first chunk)."""
        self.write_encoded(encode_chunk(df, self.suffix, header=self.rows == 0), len(df))

    def write_encoded(self, payload: bytes | pd.DataFrame, rows: int) -> None:
        """Append a chunk made by :func:`encode_chunk` (possibly in another process) of ``rows`` rows."""
        if isinstance(payload, bytes):
            with open(self._tmp, "ab") as fh:
                fh.write(payload)
        elif self.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                table = pa.Table.from_pandas(payload, preserve_index=False)
                fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
                self._schema = pa.schema(fields)
                self._parquet = pq.ParquetWriter(self._tmp, self._schema)
            self._parquet.write_table(pa.Table.from_pandas(payload, schema=self._schema, preserve_index=False))
        else:
            self._frames.append(payload)
        self.rows += rows

    def close(self) -> Path:
        """Finish the file and move it into place."""
        if self._parquet is not None:
            self._parquet.close()
        if self.suffix == ".xlsx":
            (pd.concat(self._frames) if self._frames else pd.DataFrame()).to_excel(self._tmp, index=False)
        _publish(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; the target is left as it was."""
        if self._parquet is not None:
            self._parquet.close()
        if os.path.exists(self._tmp):
            os.unlink(self._tmp)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_table(
    df: pd.DataFrame,
    path: PathLike,
    *,
    force: bool = False,
    inputs: Sequence[PathLike] = (),
) -> Path:
    """Write ``df`` to ``path`` (.csv, .xlsx, .parquet or .jsonl) atomically.

    Refuses to write over an input file, and over an existing file unless ``force``.
    """
    with TableWriter(path, force=force, inputs=inputs) as writer:
        writer.write(df)
    return writer.path


_ID_NAME = re.compile(r"(?i)^(id|.*[_ ]id|respondent|vastaaja.*|respondent.*)$")


def id_column(df: pd.DataFrame, *, strict: bool = False) -> str | None:
    """The respondent id column: the first column named like an id (``id``, ``respondent_id``, ...)
    whose values are mostly distinct; with ``strict``, only one whose values are all present and distinct.
    """
    for col in df.columns:
        if not _ID_NAME.match(str(col)):
            continue
        values = df[col].dropna().astype(str)
        if strict:
            if len(values) == len(df) and values.is_unique:
                return str(col)
        elif not values.empty and values.nunique() >= 0.5 * len(values):
            return str(col)
    return None


def duplicate_ids(df: pd.DataFrame) -> tuple[str, int] | None:
    """(id column, number of rows whose id repeats an earlier row's), or None."""
    col = id_column(df)
    if col is None:
        return None
    dups = int(df[col].dropna().astype(str).duplicated().sum())
    return (col, dups) if dups else None
