"""The command line: the roof of the house. It parses, calls the API, prints or serves."""
