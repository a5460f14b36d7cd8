"""Fees, payment and official receipts: what an application costs, how it is paid, and the
receipt that proves it (issue 16). Sits beside clearance, above registry: it reads
applications and vehicles; registry asks it through its participants, never imports it."""
