"""Fake data providers on loopback (Wonde, Xporter on Demand, OneRoster REST) for tests and the demo.

Each serves a made-up `missync.sample.SampleSchool` the way the real API does, with injectable faults.
"""

from missync.providers.fake_oneroster_api import FakeOneRosterAPI
from missync.providers.fake_wonde import FakeWonde
from missync.providers.fake_xporter import FakeXporter
from missync.providers.server import FakeProvider, Fault

__all__ = ["FakeOneRosterAPI", "FakeProvider", "FakeWonde", "FakeXporter", "Fault"]
