"""Devnet settings: the settings file and overrides."""

from __future__ import annotations

import pytest

from ledger.devnet._settings import DevnetSettings
from ledger.exceptions import ConfigurationError

pytestmark = pytest.mark.unit


def test_settings_file_and_overrides():
    settings = DevnetSettings.load(block_time=2, port=0)
    assert settings.chain_id == 16211 and settings.block_time == 2 and settings.gateway.port == 0
    assert settings.gateway.max_body_bytes == 1 << 20
    with pytest.raises(ConfigurationError):
        DevnetSettings.load(isolation="none")
