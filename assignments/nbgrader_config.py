"""nbgrader configuration of the linclass course (the course root is this folder).

`linclass release` reads this file, then builds the release in a temporary copy of the
course with a temporary gradebook, so no gradebook.db is left in the repository.  Running
nbgrader by hand from this folder also works (its gradebook.db is git-ignored).
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "linclass"
c.CourseDirectory.root = "."
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store", "datasets"]

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell time limit when validating or autograding (the tuning cells train 9 models).
c.Execute.timeout = 300
c.Execute.kernel_name = "python3"

# Only the autograder-style tests fail a cell; numpy warnings on stderr are not failures.
c.IgnorePattern.pattern = r".*(RuntimeWarning|FutureWarning|DeprecationWarning).*"
c.IgnorePattern.enabled = True
