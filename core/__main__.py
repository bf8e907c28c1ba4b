import sys

from core import config
from core.cli import main

config.keep_files_private()
sys.exit(main())
