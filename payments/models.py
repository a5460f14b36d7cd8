"""Fees, assessments, payments and official receipts (issue 16)."""
