from bench.cli import command

command()
