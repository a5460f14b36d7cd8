"""The bottom of the stack: errors, environment readers, mail and model building blocks.

Every app may import the kernel; the kernel imports no app of ours.
"""
