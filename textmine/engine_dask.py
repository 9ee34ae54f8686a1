"""The Dask engine: classify and summarize a Parquet or CSV dataset on a Dask cluster.

``predict_dask`` and ``report_dask`` give exactly the rows and the summary of the
pandas engine (:func:`textmine.predict.predict_file`, :func:`textmine.report.report_file`)
on the same rows, but spread the partitions of a Parquet or CSV dataset over the
workers of a Dask cluster: a ``distributed.LocalCluster`` of one single-threaded
process per core, or the scheduler you name (``scheduler="tcp://host:port"``).

* The model is sent to every worker once (``client.scatter(..., broadcast=True)``);
  each task receives a reference to the worker's copy, not a pickle of the model.
* The pandas engine's decisions that depend on the data (the free-text column, the
  score and segment columns, empty trailing columns) are taken, as there, on the
  first ``[predict] chunk_size`` rows (default 10,000), read as the pandas engine reads
  its first chunk, before the cluster starts (so a wrong column name fails at once).
* The summary is built from the same mergeable :class:`textmine.summary.Aggregates`
  as the pandas engine: one per partition, made on the workers, merged in partition
  order with row numbers made global.

Dask is an optional dependency (``pip install 'textmine[dask]'``); it is imported
inside the functions only, so ``import textmine`` never needs it. With a remote
scheduler, the workers need textmine installed and must see ``source`` and
``output_dir`` at the same paths (a shared file system).
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._config import setting
from .errors import TextmineError
from .files import detect_delimiter, detect_encoding, find_text_column, iter_table, require_columns
from .model import load_model
from .predict import Counts, as_classified, classify
from .summary import Aggregates, Summary, dont_know_codes, resolve_columns

PathLike = str | os.PathLike[str]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet",)
#: CSV partitions: about four per worker, each between these sizes (bytes).
MIN_BLOCK = 2 << 20
MAX_BLOCK = 64 << 20


# -- dask, lazily ---------------------------------------------------------------------
def require_dask() -> None:
    """Raise E110 (how to install the extra) unless dask.dataframe and distributed import."""
    try:
        import dask  # noqa: F401
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise TextmineError("E110") from None


@contextmanager
def _client(scheduler: str | None, n_workers: int | None) -> Iterator[Any]:
    """A distributed Client: connected to ``scheduler``, or to a LocalCluster closed on exit."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise TextmineError("E115", address=scheduler, reason=" ".join(str(exc).split()) or type(exc).__name__) from None
        with client:
            yield client
        return
    workers = n_workers or os.cpu_count() or 1
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


@contextmanager
def _session(scheduler: str | None, n_workers: int | None) -> Iterator[Any]:
    """Dask settings for the engine and a client: strings stay ``object`` as in the pandas engine.

    (Dask's default, pyarrow strings, would turn a missing answer into ``pd.NA``.)
    """
    require_dask()
    import dask

    with dask.config.set({"dataframe.convert-string": False}), _client(scheduler, n_workers) as client:
        yield client


# -- the source -------------------------------------------------------------------------
def _natural_key(path: str) -> list[Any]:
    """part.2 before part.10."""
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", path)]


def source_files(source: PathLike | Sequence[PathLike]) -> tuple[str, list[str]]:
    """The kind ("csv" or "parquet") and the files of ``source``, in natural order.

    ``source`` is a directory (its .parquet or .csv files; names starting with ``_`` or
    ``.`` are skipped, as Spark's and Dask's bookkeeping files), a glob, one file, or a
    list of files.
    """
    if isinstance(source, (list, tuple)):
        files = [str(f) for f in source]
        label = ", ".join(files[:3]) + (" ..." if len(files) > 3 else "")
    else:
        label = str(source)
        p = Path(label)
        if p.is_dir():
            files = [str(f) for f in p.iterdir() if f.is_file() and not f.name.startswith(("_", "."))]
            files = [f for f in files if f.lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)]
        elif p.is_file():
            files = [label]
        elif glob.has_magic(label):
            files = [f for f in glob.glob(label) if Path(f).is_file()]
        else:
            raise TextmineError("E001", path=label)
    files = sorted(files, key=_natural_key)
    if not files:
        raise TextmineError("E111", source=label)
    for f in files:
        if not Path(f).exists():
            raise TextmineError("E001", path=f)
    suffixes = sorted({Path(f).suffix.lower() for f in files})
    kinds = {"parquet" if s in PARQUET_SUFFIXES else "csv" if s in CSV_SUFFIXES else s for s in suffixes}
    if len(kinds) > 1:
        raise TextmineError("E112", source=label, suffixes=", ".join(s or "(none)" for s in suffixes))
    kind = kinds.pop()
    if kind not in ("csv", "parquet"):
        raise TextmineError("E003", suffix=suffixes[0] or "(none)", path=files[0])
    return kind, files


def _needs_whole_file(path: str, chunk: int = 16 << 20) -> bool:
    """True when splitting ``path`` at line ends could cut a row.

    That is when a line break lies inside a quoted field (an odd number of ``"``
    before it) or lines end with a bare CR. Works on the bytes of any ASCII-compatible
    encoding; parity survives the uint8 cumulative sum's wrap-around.
    """
    parity = 0
    cr_at_end = False
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            buf = np.frombuffer(block, dtype=np.uint8)
            if cr_at_end and buf[0] != 10:
                return True
            cr = np.flatnonzero(buf[:-1] == 13)
            if len(cr) and (buf[cr + 1] != 10).any():
                return True
            cr_at_end = bool(buf[-1] == 13)
            quotes = buf == 34
            inside = (np.cumsum(quotes, dtype=np.uint8) + parity) & 1
            if inside[buf == 10].any():
                return True
            parity = (parity + int(quotes.sum())) & 1
    return cr_at_end


def _csv_blocksize(files: list[str], encoding: str, workers: int) -> int | None:
    """Bytes per CSV partition: about four partitions per worker, or whole files when rows may span lines."""
    if encoding.lower().replace("_", "-").startswith("utf-16") or any(_needs_whole_file(f) for f in files):
        return None
    total = sum(os.path.getsize(f) for f in files)
    return int(min(MAX_BLOCK, max(MIN_BLOCK, total // max(1, 4 * workers))))


def _read(kind: str, files: list[str], workers: int) -> Any:
    """The raw dask DataFrame of ``files`` (every cell of a CSV as text, as the pandas engine reads it)."""
    import dask.dataframe as dd

    if kind == "parquet":
        try:
            return dd.read_parquet(files, index=False)
        except Exception as exc:  # pyarrow and fsspec raise many kinds
            raise TextmineError("E006", path=files[0], kind="Parquet", reason=" ".join(str(exc).split())[:300]) from None
    with open(files[0], "rb") as fh:
        head = fh.read(1 << 20)
    if not head.strip():
        raise TextmineError("E004", path=files[0])
    encoding = detect_encoding(head)
    try:
        sample = head.decode(encoding, errors="strict" if len(head) < (1 << 20) else "ignore").lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError):
        raise TextmineError("E012", path=files[0], encoding=encoding) from None
    sep = detect_delimiter(sample)
    with _reading(files[0], f"CSV (delimiter {sep!r}, encoding {encoding})", encoding):
        return dd.read_csv(files, sep=sep, encoding=encoding, dtype=str, keep_default_na=False, na_values=[""],
                           blocksize=_csv_blocksize(files, encoding, workers))


@contextmanager
def _reading(path: str, kind: str, encoding: str | None = None) -> Iterator[None]:
    """Parse errors, also those raised on a worker while computing, as the pandas engine's E006/E012."""
    try:
        yield
    except UnicodeDecodeError:
        raise TextmineError("E012", path=path, encoding=encoding or "the detected encoding") from None
    except pd.errors.ParserError as exc:
        reason = " ".join(str(exc.__cause__ or exc).split())[:300]  # dask wraps pandas' message
        raise TextmineError("E006", path=path, kind=kind, reason=reason) from None


def _first_rows(files: list[str], n: int) -> pd.DataFrame:
    """The first ``n`` rows of the dataset, read as the pandas engine reads its first chunk.

    :func:`textmine.files.iter_table` on the first file (and the next ones while fewer
    than ``n`` rows were found), on this machine: never a whole large partition.
    """
    parts: list[pd.DataFrame] = []
    got = 0
    for i, f in enumerate(files):
        try:
            chunk = next(iter_table(f, chunk_size=n - got))
        except TextmineError as err:
            if i == 0 or err.code not in ("E004", "E005"):
                raise
            continue  # an empty part of a dataset
        parts.append(chunk if not parts else chunk.reindex(columns=parts[0].columns))
        got += len(chunk)
        if got >= n:
            break
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def _dataset(kind: str, files: list[str], first: pd.DataFrame, client: Any) -> Any:
    """The raw dask DataFrame of ``files``, with the columns ``iter_table`` gave ``first``."""
    workers = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()) or 1
    ddf = _read(kind, files, workers)
    names = [str(c).strip().lstrip("\ufeff") for c in ddf.columns]
    if names != list(ddf.columns):
        ddf = ddf.rename(columns=dict(zip(ddf.columns, names)))
    drop = [c for c in ddf.columns if c not in first.columns]  # empty trailing columns, as iter_table drops them
    return ddf.drop(columns=drop) if drop else ddf


# -- classifying ------------------------------------------------------------------------
def _classify_partition(part: pd.DataFrame, model: Any, *, dtypes: dict[str, Any], **options: Any) -> pd.DataFrame:
    """:func:`textmine.predict.classify` on one partition (an empty one gets the meta's ``dtypes``)."""
    out = classify(part, model, **options)
    return out.astype(dtypes) if len(part) == 0 else out


def _classified(ddf: Any, model: Any, client: Any, *, text_col: str, redact: bool) -> Any:
    """The dask DataFrame of classified rows; the model is scattered to every worker once."""
    meta = classify(ddf._meta, model, text_col=text_col, redact=redact)
    # classify gives an empty frame float columns where its lists of strings are empty
    meta = meta.astype({c: object for c in ("lang", "themes", *([text_col] if redact else []))})
    shared = client.scatter(model, broadcast=True)
    return ddf.map_partitions(_classify_partition, shared, meta=meta, dtypes=meta.dtypes.to_dict(),
                              text_col=text_col, redact=redact, align_dataframes=False)


def _parquet_schema(meta: pd.DataFrame) -> Any:
    """The output schema: the meta's, with object (text) columns as strings."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(meta, preserve_index=False)
    for i, f in enumerate(schema):
        if pa.types.is_null(f.type):
            schema = schema.set(i, pa.field(f.name, pa.string()))
    return schema


def _part_name(i: int) -> str:
    return f"part-{i:06d}.parquet"  # zero-padded, so that name order is row order


def _count_partition(tagged: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"read": [len(tagged)], "empty": [int((tagged["lang"] == "").sum())]})


def _check_output_dir(output_dir: Path, files: list[str], *, force: bool) -> None:
    out = output_dir.resolve()
    for f in files:
        if out == Path(f).resolve() or out in Path(f).resolve().parents:
            raise TextmineError("E114", path=str(output_dir), input=f)
    if output_dir.exists() and not force and (output_dir.is_file() or any(output_dir.iterdir())):
        raise TextmineError("E113", path=str(output_dir))


def predict_dask(
    source: PathLike | Sequence[PathLike],
    output_dir: PathLike,
    *,
    model: Any,
    text_col: str | None = None,
    redact: bool = False,
    scheduler: str | None = None,
    force: bool = False,
    n_workers: int | None = None,
) -> Counts:
    """Classify a Parquet or CSV dataset on a Dask cluster into a partitioned Parquet dataset.

    Parameters
    ----------
    source:
        A directory of .parquet or .csv files, a glob ("data/*.csv"), one file or a list
        of files. Every row is kept, in order (files in natural name order).
    output_dir:
        Written as ``part-000000.parquet``, ``part-000001.parquet``, ... (name order is
        row order), with the columns of :func:`textmine.predict.classify`. The dataset is
        written beside it and moved into place when complete. An existing non-empty
        directory is replaced only with ``force``; one holding an input file never.
    model:
        A model from :func:`textmine.load_model` (``None``: the shipped model).
    text_col, redact:
        As for :func:`textmine.predict.predict_file`.
    scheduler:
        ``"tcp://host:port"`` of a running Dask scheduler; ``None`` starts a LocalCluster
        of ``n_workers`` single-threaded processes (default: one per core), closed at the end.

    Returns
    -------
    Counts
        Rows read, and empty answers among them.
    """
    require_dask()
    import dask

    model = model if model is not None else load_model()
    out = Path(output_dir)
    kind, files = source_files(source)
    _check_output_dir(out, files, force=force)
    first = _first_rows(files, int(setting("predict", "chunk_size")))
    if text_col:
        require_columns(first, [text_col], what="Text column")
    text_col = text_col or find_text_column(first)
    with _session(scheduler, n_workers) as client:
        ddf = _dataset(kind, files, first, client)
        tagged = _classified(ddf, model, client, text_col=text_col, redact=redact)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            write = tagged.to_parquet(str(tmp), write_index=False, name_function=_part_name,
                                      schema=_parquet_schema(tagged._meta), compute=False)
            counted = tagged.map_partitions(_count_partition, meta=_count_partition(tagged._meta))
            with _reading(str(source), "a CSV or Parquet dataset"):
                _, counts = dask.compute(write, counted)  # one pass: both share the classify tasks
            _replace_dir(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return Counts(read=int(counts["read"].sum()), empty=int(counts["empty"].sum()))


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished dataset ``tmp`` to ``out``, replacing what was there."""
    old = None
    if out.exists() or out.is_symlink():
        old = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()


# -- summarizing ------------------------------------------------------------------------
def _aggregate(tagged: pd.DataFrame, columns: dict[str, Any]) -> Aggregates:
    """One partition's aggregates (row numbers local; :func:`_merge` makes them global)."""
    return Aggregates(**columns).update(tagged)


def _merge(parts: Sequence[Aggregates], columns: dict[str, Any]) -> Aggregates:
    """Merge partition aggregates in order; problems' row numbers shifted by the rows before."""
    total = Aggregates(**columns)
    offset = 0
    for part in parts:
        if offset:
            for col, probs in part.problems.items():
                part.problems[col] = [(row + offset, value) for row, value in probs]
        total.merge(part)
        offset += part.n_rows
    return total


def report_dask(
    source: PathLike | Sequence[PathLike],
    *,
    model: Any,
    scores: Sequence[str] | None = None,
    segments: Sequence[str] | None = None,
    text_col: str | None = None,
    min_cell: int | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> tuple[Summary, Counts]:
    """Classify a Parquet or CSV dataset on a Dask cluster and summarize it.

    The summary equals :func:`textmine.report.report_file`'s on the same rows: the
    score and segment columns are resolved as there (on the first ``chunk_size``
    rows), each partition's :class:`Aggregates` is made on a worker, and they are
    merged in partition order. Arguments as for :func:`predict_dask` and
    :func:`textmine.report.report_file`.

    Returns
    -------
    (Summary, Counts)
    """
    require_dask()
    import dask

    model = model if model is not None else load_model()
    Aggregates(scores=[], segments=[], themes=[]).finalize(min_cell=min_cell)  # E061 before the work
    kind, files = source_files(source)
    first = _first_rows(files, int(setting("predict", "chunk_size")))
    require_columns(first, [*(scores or []), *(segments or []), *([text_col] if text_col else [])])
    text_col = text_col or find_text_column(first)
    themes = list(model.themes_)
    codes = tuple(sorted(dont_know_codes()))
    score_cols, seg_cols = resolve_columns(as_classified(first, themes), scores=scores, segments=segments,
                                           text_col=text_col, themes=themes, dont_know=codes)
    columns = {"scores": score_cols, "segments": seg_cols, "themes": themes, "text_col": text_col, "dont_know": codes}
    with _session(scheduler, n_workers) as client:
        ddf = _dataset(kind, files, first, client)
        tagged = _classified(ddf, model, client, text_col=text_col, redact=False)
        parts = [dask.delayed(_aggregate)(p, columns) for p in tagged.to_delayed()]
        with _reading(str(source), "a CSV or Parquet dataset"):
            aggs = dask.compute(*parts)
    agg = _merge(aggs, columns)
    summary = agg.finalize(min_cell=min_cell, model_card=getattr(model, "card_", {}))
    return summary, Counts(read=agg.n_rows, empty=agg.n_rows - agg.n_answered)


__all__ = ["predict_dask", "report_dask", "require_dask", "source_files"]
