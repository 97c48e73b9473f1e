"""The weekly adoption report: numbers (`weekly`), formats (`render`) and writing it out
(`export`)."""
