"""Fixtures and options every test directory may use."""

pytest_plugins = ["tests.support.postgres"]


def pytest_addoption(parser):
    parser.addoption("--database", choices=("sqlite", "postgresql"), default="sqlite",
                     help="the database the end-to-end system runs on (scripts/test runs the core flows on both)")
