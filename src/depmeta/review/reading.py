"""Reading a review's sheets: CSV files or an Excel workbook's sheets, as strings, with every
problem of reading named by file, row and column (:class:`depmeta.review.sheets.SheetError`);
and the files of each validation group as a protocol's ``sheets`` section names them (the
workflow's validation jobs and ``depmeta validate`` read them alike)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from depmeta.review.sheets import Problem, SheetError

__all__ = ["OTHER_SEPARATORS", "read_group", "read_sheet"]


#: Separators a CSV export may use instead of the comma (Excel in many locales, TSV).
OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def read_sheet(path: str, sheet: str | None = None, label: str | None = None) -> pd.DataFrame:
    """A sheet as strings (blank cells as ""), from CSV or from a workbook's named sheet.

    CSV files are read as UTF-8 (with or without a byte-order mark) and any line ending;
    rows are numbered as in :mod:`depmeta.review.sheets` (header = row 1). Empty rows at the end
    are ignored, and so are comment rows (first cell starting with ``#``), whose numbers the
    other rows keep.

    Raises
    ------
    depmeta.review.sheets.SheetError
        For a file that cannot be read as a sheet, naming the file (``label``) and, where
        there is one, the row and column: an empty file, text that is not UTF-8, another
        separator than the comma, rows with more cells than the header, a column named
        twice, merged cells in a workbook, an empty row between data rows.
    """
    p = Path(path)
    label = label or str(path)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        df = _read_workbook_sheet(p, sheet, label)
    else:
        df = _read_csv_sheet(p, label)
    df = df.fillna("")
    df.columns = [str(c).strip() for c in df.columns]
    df = df.reset_index(drop=True)
    blank = df.apply(lambda col: col.astype(str).str.strip().eq("")).all(axis=1) if len(df.columns) else \
        pd.Series(True, index=df.index)
    last = int(np.flatnonzero(~blank.to_numpy())[-1]) + 1 if (~blank).any() else 0
    empty_rows = [i + 2 for i in np.flatnonzero(blank.to_numpy()[:last])]
    if empty_rows:
        raise SheetError([Problem(label, row, None, "empty row between data rows; delete it") for row in empty_rows])
    df = df.iloc[:last]
    # A row whose first cell starts with "#" is a comment (the example rows `depmeta init` writes);
    # the other rows keep their numbers.
    if len(df.columns):
        df = df[~df.iloc[:, 0].astype(str).str.lstrip().str.startswith("#")]
    return df


def _read_csv_sheet(p: Path, label: str) -> pd.DataFrame:
    raw = p.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SheetError([Problem(label, None, None, "the file is UTF-16 text; save it as CSV UTF-8")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        row = raw[:err.start].count(b"\n") + 1
        raise SheetError([Problem(label, row, None, f"not UTF-8 text (byte 0x{raw[err.start]:02x}); "
                                                    "save the sheet as CSV UTF-8")]) from None
    if not text.strip():
        raise SheetError([Problem(label, None, None, "the file is empty: expected a header row and data rows")])
    header = next(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in header]
    if len(header) == 1:
        for sep, name in OTHER_SEPARATORS.items():
            if sep in header[0]:
                raise SheetError([Problem(label, 1, None, f"the header is one column {header[0][:60]!r}...: the file "
                                                          f"is separated by {name}; save it with commas")])
    seen, problems = set(), []
    for name in header:
        if name in seen:
            problems.append(Problem(label, 1, name, "column appears more than once in the header"))
        seen.add(name)
    if problems:
        raise SheetError(problems)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as err:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        if not m:
            raise SheetError([Problem(label, None, None, f"not a readable CSV file: {err}")]) from None
        expected, line, saw = m.groups()
        raise SheetError([Problem(label, int(line), None, f"{saw} cells where the header has {expected} "
                                                          "(an unquoted comma in a cell?)")]) from None


def _read_workbook_sheet(p: Path, sheet: str | None, label: str) -> pd.DataFrame:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        book = openpyxl.load_workbook(p, read_only=False, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise SheetError([Problem(label, None, None, f"not a readable .xlsx workbook ({err})")]) from None
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    if ws.merged_cells.ranges:
        header = [c.value for c in ws[1]] if ws.max_row else []
        problems = []
        for rng in sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
            col = header[rng.min_col - 1] if rng.min_col - 1 < len(header) and header[rng.min_col - 1] else \
                get_column_letter(rng.min_col)
            problems.append(Problem(label, rng.min_row, str(col),
                                    f"merged cells {rng.coord}: unmerge them and fill in every cell"))
        raise SheetError(problems)
    header = [c.value for c in ws[1]] if ws.max_row else []
    percent_cells = [
        Problem(label, cell.row, str(header[cell.column - 1]) if cell.column - 1 < len(header) else cell.column_letter,
                f"formatted as a percentage in Excel, so the cell holds the proportion {cell.value:g}: format the "
                f"column as a number and enter {100 * cell.value:g} for {100 * cell.value:g} %")
        for row in ws.iter_rows(min_row=2) for cell in row
        if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
        and "%" in (cell.number_format or "")
    ]
    if percent_cells:
        raise SheetError(percent_cells)
    return pd.read_excel(p, sheet_name=sheet if sheet is not None else 0, dtype=str)


def read_group(sheets: tuple[str, ...], files: dict[str, str], book_sheets: tuple[str, ...],
               required: tuple[str, ...] = ("studies", "arms")):
    """Read the sheets of one validation group that ``files`` names.

    ``files`` maps a sheet's name to its CSV file, or holds ``workbook`` (then every sheet of
    ``book_sheets`` the group needs is read from the workbook's sheet of that name, and the
    ``required`` ones must be there). A sheet that cannot be read is a problem, and the
    others are still read, so one pass lists every problem.

    Returns
    -------
    raw : dict
        name -> the sheet as strings.
    labels : dict
        name -> how messages name it (the file, or ``book.xlsx [sheet arms]``).
    sources : dict
        name -> the file it was read from.
    problems : list of Problem
    """
    locations, labels, problems = {}, {}, []
    if "workbook" in files:
        book = files["workbook"]
        try:
            present = pd.ExcelFile(book).sheet_names
        except Exception as err:  # a corrupt or mislabelled file: zipfile, openpyxl and xlrd errors alike
            return {}, {}, {}, [Problem(book, None, None, f"not a readable .xlsx workbook ({err})")]
        for name in book_sheets:
            if name in present and name in sheets:
                locations[name], labels[name] = (book, name), f"{book} [sheet {name}]"
        if "hazard_ratios" in present and "contrasts" in sheets:
            problems.append(Problem(f"{book} [sheet hazard_ratios]", None, None, (
                "hazard ratios are rows of the contrasts sheet (measure HR) now: move the rows to the sheet "
                "contrasts, rename hr to estimate (or log_hr to log_estimate and se_log_hr to se), add measure HR "
                "on every row, and delete the sheet hazard_ratios; data/README.md, 'contrasts.csv', describes "
                "the layout")))
        missing = [name for name in required if name in sheets and name not in locations]
        if missing:
            return {}, {}, {}, [Problem(book, None, None, f"the workbook has no sheet named "
                                                          f"{' or '.join(map(repr, missing))} (it has {present})")]
    for name in sheets:
        if name in files and name not in locations:
            locations[name], labels[name] = (files[name], None), files[name]
    raw = {}
    for name, (path, sheet) in locations.items():
        try:
            raw[name] = read_sheet(path, sheet, labels[name])
        except SheetError as err:
            problems += err.problems
    return raw, labels, {name: path for name, (path, _) in locations.items()}, problems
