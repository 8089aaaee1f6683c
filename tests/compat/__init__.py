"""The compatibility suite: model kinds × kerastools callbacks × kill-and-resume, on every backend."""
