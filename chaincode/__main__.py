"""``python -m chaincode``: serve the Talaan chaincode as a service (see ``chaincode.server``)."""

import sys

from chaincode.server import main

sys.exit(main())
