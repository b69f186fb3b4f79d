"""Hate crime reporting figures: read a CSV, XLSX or ODS file and check it whole.

Three layouts are recognised from the header (case, spacing, punctuation and column order do
not matter; in a workbook, every sheet with a recognised header is read):

`long`, the project's own format, one count per row:
    period_start, period_end   the period's first and last day: 2023-01-02, or 02/01/2023
    area                       e.g. York
    strand                     race, religion, sexual-orientation, disability, transgender or all
    source                     police-recorded, third-party-centre, true-vision, stop-hate-uk, ...
    count                      a whole number, 0 or more
    measure                    optional: offences (the default) or motivating-factors
  Unknown columns are refused, so a misspelt optional column is not silently dropped.

`home-office-long`, the Home Office's long tables: `Financial Year` (2018/19 is 1 April 2018
to 31 March 2019), optional `Financial Quarter` (1 to 4: April-June, July-September,
October-December, January-March of that financial year), `Force Name`, optional
`Hate Crime Strand` (or `Motivating factor`), any offence columns, and `Number of Offences`.
Rows for the same period, force and strand (several offence types) are added up. Without a
strand column the rows count offences (strand `all`); with one, each row counts offences with
that motivating factor, so the counts are stored as motivating factors (one offence can have
several) and are never added up across strands.

`wide-strands`, per-strand tables as the Home Office bulletin tables and newsrooms publish them:
one row per force and year (`Year`, or `Financial Year`, and optional `Financial Quarter`) with
any of `Race`, `Religion` (or `Total Religion`), `Sexual orientation`, `Disability`,
`Transgender`, `Total number of motivating factors`, `Total number of offences`. The strands are
stored as motivating factors, the two totals as strand `all`; the strands must add up to the
stated total of motivating factors. Blank cells and the statistical shorthand for "not
available" (`..`, `[x]`, `[z]`, `[c]`, `[u]`, `[w]`) are not stored. Other columns (population,
rates) and single-cell rows (titles, footnotes) are ignored.

Source: `--source` names the source of a Home Office or per-strand table (default
police-recorded); in the long format each row names its own, and `--source` fills blank cells.

Comment lines above the header start with `#`. `# synthetic` (conventionally the first line)
marks a file of made-up figures, so they are labelled synthetic wherever they are shown;
`# citation: ...` says where the figures were published.

Every problem is found in one pass and named by file, sheet, row (as a spreadsheet shows it:
the header of a plain file is row 1) and column. Nothing is stored unless the whole file is
valid. A file imported before (the same bytes) changes nothing; a different file restating a
count already stored is refused, naming both files.

Dates are whole days from 1990 to next year: a spreadsheet date-time with a time of day, or a
year outside that range, is refused with its row and column. Reading is bounded (`grid` holds
the limits): a file over 50 MB, a value below row 100,000 or right of column SZ, more than
500,000 cells, a cell over 32,767 characters or more than 10,000 areas is refused with a
message naming the file, sheet and limit; blank rows and cells, however many a file repeats,
cost nothing.

This package is the checking half, plain Python: `values` (cells), `layouts` (headers), `rows`
(`parse_sheets`), `reading` (`read_sheets`: CSV, and `xlsx` and `ods` over `archive`, each
building sheets with `grid`). Storing the counts is `campaigns.storage.reports`.
"""

