"""Defaults only. instance/config.py and the environment override them; tests pass a mapping."""

COUNTY_CODE = "610922"
COUNTY_NAME = "石泉县"
# How the county office is called on screens; the rulebook's name has changed over the years.
COUNTY_OFFICE_NAME = "县脱贫攻坚领导小组办公室"

SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
# A PostgreSQL streaming replica of DATABASE_URL (environment or instance/config.py): the pages that only read and
# tolerate a few seconds' lag read from it (app/replica.py) and say how fresh they are. None: all from the primary.
REPLICA_DATABASE_URL: str | None = None
# Beyond this lag (seconds) those pages are read from the primary; a replica that does not answer within the connect
# timeout is left alone for REPLICA_RETRY_SECONDS (the pages read from the primary meanwhile).
REPLICA_MAX_LAG_SECONDS = 60
REPLICA_CONNECT_TIMEOUT = 2
REPLICA_RETRY_SECONDS = 10
WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Set True in instance/config.py (or SESSION_COOKIE_SECURE=1 in the environment) when the app is served over
# HTTPS; False by default so that http://127.0.0.1 works for a local try-out.
SESSION_COOKIE_SECURE = False
PERMANENT_SESSION_LIFETIME = 8 * 3600
# A web session ends after this many minutes without a request (MLPS 2.0: session timeout).
SESSION_IDLE_MINUTES = 30

# How many reverse proxies in front of the app to trust for X-Forwarded-For/-Proto (0: none, the default; set 1
# behind one nginx). Anything else lets a client write any address into the audit log.
TRUSTED_PROXIES = 0

# API bearer tokens expire after this many hours; POST /api/v1/auth/revoke ends one earlier.
API_TOKEN_HOURS = 8

# Security headers on every response. No inline scripts: page code lives in app/static/js/, and data for it
# in <script type="application/json"> blocks, which are not executed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DEMO_PASSWORD = "Shiquan@2020"
# National practice: publicity lasts at least five days.
MIN_NOTICE_DAYS = 5
DEFAULT_NOTICE_DAYS = 5
# National rule: from discovering a risk to county approval within 15 days (calendar days).
CERTIFICATION_DAYS = 15
CASES_PER_PAGE = 50
# The city's and the province's scoreboard and heatmap are computed by the timer workers this often
# (app/supervision/snapshots.py); a county's pages and anything below are always live.
OVERVIEW_REFRESH_MINUTES = 10
# The public self-declaration page: where residents' phones reach it (printed in the village QR code; None: the
# address the QR sheet was requested at), and how often one client address may declare and look up per hour.
PUBLIC_BASE_URL: str | None = None
PUBLIC_DECLARATIONS_PER_HOUR = 5
PUBLIC_LOOKUPS_PER_HOUR = 20

# Uploads larger than this are cut off before any view runs (a 413 page); the import's own, finer limit is
# HOUSEHOLD_IMPORT_MAX_BYTES (100 MB by default), which names itself in the message.
MAX_CONTENT_LENGTH = 128 * 1024 * 1024

# Uploaded workbooks (household registry, 附件1 rosters) are parsed only in a child process (app/excel/bounded.py)
# with a memory budget beyond its start-up (watched by the parent; twice it is the child's address-space limit) and
# a deadline; past either, the upload is refused. The county registry (219,043 person rows, as LibreOffice saves
# it) takes about 230 MB and 30-70 s on this project's machines.
EXCEL_READ_MEMORY_BYTES = 1024 * 1024 * 1024
EXCEL_READ_SECONDS = 600
# Per-part limits, judged before parsing (app/excel/reading.py: Limits); that registry's shared strings are 20.2 MB
# (386,364 strings) and its sheet 114 MB uncompressed.
EXCEL_MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
EXCEL_MAX_SHARED_STRINGS = 1_000_000
EXCEL_MAX_SHEET_BYTES = 256 * 1024 * 1024
EXCEL_MAX_PART_BYTES = 16 * 1024 * 1024

# Attachments of cases (photos, scans): the largest file accepted, and where the files are kept (by checksum);
# None keeps them in instance/attachments.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_DIR = None

# The Chinese face embedded (as a subset) in the notices' PDFs. None: what fontconfig finds for Simplified Chinese
# (Noto Serif CJK SC from Debian's fonts-noto-cjk, which `make run` installs). A .ttc holds several faces:
# NOTICE_FONT_INDEX picks one.
NOTICE_FONT_FILE = None
NOTICE_FONT_INDEX = 0
