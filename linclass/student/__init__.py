"""What runs on the student side: shared by the public self-check and the grader (standard library only)."""
