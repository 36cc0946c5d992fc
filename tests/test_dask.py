"""`nudgescribe_async.dask.read_messages` against the emulator, on a real LocalCluster.

One module-scoped cluster of two worker processes serves every test. The emulator runs in a
thread of the test process, so the workers can reach it and the tests can read its counters.
Workers get credentials from the `NUDGESCRIBE_*` environment they inherit at spawn, or from a
credentials file (a fresh path gives fresh clients, which the authentication tests need).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib
import json
import math
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import dask.dataframe as dd
import distributed
import pandas as pd
import pytest

import nudgescribe_async
from nudgescribe_async import NotFoundError, ServerError, _sync
from nudgescribe_async._cli_dask import export_to_parquet
from nudgescribe_async.dask import read_messages
from nudgescribe_async.testing import Emulator

FETCH = "/v1/messages/fetch"
PAGES = "/v1/messages/pages"
AUTH = "/v1/auth"
STRING = pd.StringDtype("pyarrow")

pytestmark = pytest.mark.slow

Record = tuple[str, str, int, int]


@contextlib.contextmanager
def emulator_in_thread() -> Iterator[Emulator]:
    """The emulator on 127.0.0.1, served by an event loop on a thread of its own."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="emulator", daemon=True)
    thread.start()
    emu = Emulator()
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result()
    try:
        yield emu
    finally:
        asyncio.run_coroutine_threadsafe(emu.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def env_for(emu: Emulator) -> dict[str, str]:
    creds = emu.credentials
    return {
        "NUDGESCRIBE_BASE_URL": emu.base_url,
        "NUDGESCRIBE_EMAIL": creds.email,
        "NUDGESCRIBE_PASSWORD": creds.password,
        "NUDGESCRIBE_API_KEY": creds.api_key,
        "NUDGESCRIBE_API_CODE": creds.api_code,
    }


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with emulator_in_thread() as emu:
        yield emu


@pytest.fixture(scope="module")
def cluster(emu: Emulator) -> Iterator[distributed.Client]:
    # Workers run the package the tests import (a checkout, or an editable install).
    root = str(Path(nudgescribe_async.__file__).resolve().parents[1])
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env_for(emu).items():
            mp.setenv(name, value)
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",  # never the shared default port
            ) as local,
            distributed.Client(local) as client,
        ):
            yield client


@pytest.fixture
def creds_file(emu: Emulator, tmp_path: Path) -> Path:
    path = tmp_path / "nudgescribe.json"
    path.write_text(json.dumps({**emu.credentials.as_kwargs(), "base_url": emu.base_url}))
    return path


_names = iter(range(10**6))


def campaign(emu: Emulator, *, files: int, rows: int = 30, **kwargs: Any) -> str:
    return emu.add_campaign(f"dask {next(_names)}", files=files, rows=rows, **kwargs)


def expected(emu: Emulator, campaign_id: str, file_nums: Any = None) -> collections.Counter[Record]:
    run = emu.state.campaigns[campaign_id].run()
    assert run is not None and run.export is not None
    export = run.export
    nums = range(export.num_files) if file_nums is None else file_nums
    return collections.Counter(
        (cid, msg, n, row) for n in nums for row, (cid, msg) in enumerate(export.rows_for(n))
    )


def records_of(frame: pd.DataFrame) -> collections.Counter[Record]:
    cols = zip(frame["customer_id"], frame["message"], frame["file_num"], frame["row"], strict=True)
    return collections.Counter((c, m, int(f), int(r)) for c, m, f, r in cols)


# -- exact partitions ---------------------------------------------------------------------


@pytest.mark.parametrize("files_per_partition", [1, 3, 4, 10])
def test_every_record_arrives_exactly_once_whatever_the_partition_size(
    emu: Emulator, cluster: distributed.Client, files_per_partition: int
) -> None:
    cid = campaign(emu, files=10)
    df = read_messages(cid, files_per_partition=files_per_partition, concurrency=2)
    assert df.npartitions == math.ceil(10 / files_per_partition)
    result = df.compute()
    assert records_of(result) == expected(emu, cid)
    assert len(result) == 300


def test_partitions_hold_consecutive_files_of_the_chosen_subset_in_order(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=10)
    fetches = emu.count(FETCH)
    df = read_messages(cid, file_nums=[7, 2, 5, 9], files_per_partition=3)
    assert df.npartitions == 2
    parts = [df.get_partition(i).compute() for i in range(df.npartitions)]
    assert [sorted(set(p["file_num"])) for p in parts] == [[2, 5, 7], [9]]
    for part in parts:
        keys = list(zip(part["file_num"], part["row"], strict=True))
        assert keys == sorted(keys)
    assert records_of(pd.concat(parts)) == expected(emu, cid, [2, 5, 7, 9])
    assert emu.count(FETCH) - fetches == 4


def test_meta_is_exact_so_building_the_frame_reads_no_file(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=3, extra_columns=("channel",))
    fetches, pages = emu.count(FETCH), emu.count(PAGES)
    df = read_messages(cid, files_per_partition=2, extra_columns=("channel", "segment"))
    assert (emu.count(FETCH), emu.count(PAGES)) == (fetches, pages + 1)
    assert list(df.columns) == ["customer_id", "message", "file_num", "row", "channel", "segment"]
    assert df.dtypes.to_dict() == {
        "customer_id": STRING,
        "message": STRING,
        "file_num": "int64",
        "row": "int64",
        "channel": STRING,
        "segment": STRING,
    }
    result = df.compute()
    assert result.dtypes.to_dict() == df.dtypes.to_dict()
    assert list(result["channel"]) == [f"channel-{n}" for n in result["file_num"]]
    assert result["segment"].isna().all()


def test_an_empty_selection_is_an_empty_frame_with_the_same_columns(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=2)
    df = read_messages(cid, file_nums=[])
    result = df.compute()
    assert len(result) == 0
    assert result.dtypes.to_dict() == df.dtypes.to_dict()


# -- clients, credentials and the graph ---------------------------------------------------


def test_each_worker_process_authenticates_once_however_many_partitions(
    emu: Emulator, cluster: distributed.Client, creds_file: Path
) -> None:
    cid = campaign(emu, files=12, rows=5)
    before = emu.count(AUTH, "POST")
    df = read_messages(cid, credentials_file=creds_file)  # a new source: new clients everywhere
    assert emu.count(AUTH, "POST") - before == 1  # the caller, to count the files
    persisted = cluster.persist(df)
    distributed.wait(persisted)
    who_has = cluster.who_has(persisted)
    workers = {w for holders in who_has.values() for w in holders}
    assert df.npartitions == 12 and 1 <= len(workers) <= 2
    assert records_of(persisted.compute()) == expected(emu, cid)
    assert emu.count(AUTH, "POST") - before == 1 + len(workers)
    assert records_of(df.compute()) == expected(emu, cid)  # the same clients, reused
    assert emu.count(AUTH, "POST") - before == 1 + len(workers)


@pytest.mark.parametrize("source", ["environment", "file"])
def test_the_task_graph_holds_no_secret(
    emu: Emulator,
    cluster: distributed.Client,
    creds_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    issued: list[dict[str, Any]] = []
    issue = emu.issue_tokens

    def recording(account: Any) -> dict[str, Any]:
        tokens = issue(account)
        issued.append(tokens)
        return tokens

    monkeypatch.setattr(emu, "issue_tokens", recording)
    cid = campaign(emu, files=4, rows=3)
    # A fresh credentials file, or the environment with a base URL of its own: a new client
    # signs in, so its tokens are among those recorded.
    options: dict[str, Any] = (
        {"credentials_file": creds_file} if source == "file" else {"base_url": emu.base_url + "/"}
    )
    df = read_messages(cid, files_per_partition=2, **options)
    df.compute()
    secrets = [emu.credentials.password, emu.credentials.api_key, emu.credentials.api_code]
    secrets += [t[k] for t in issued for k in ("access_token", "refresh_token")]
    assert issued, "no token was issued, so the search below would prove nothing"
    graph = df.__dask_graph__()
    blobs = [cloudpickle.dumps(graph), pickle.dumps(dict(graph)), cloudpickle.dumps(df)]
    blobs.append(repr(dict(graph)).encode())
    assert cid.encode() in blobs[0]  # the search does find what the graph holds
    for blob in blobs:
        for secret in secrets:
            assert secret.encode() not in blob


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('{"email": "a@b.c", "passwd": "hunter2"}', "unknown keys ['passwd']"),
        ('{"email": "a@b.c", "password": hunter2}', "not valid JSON (line 1 column 32)"),
        ('["hunter2"]', "must hold a JSON object"),
        ('{"email": "a@b.c", "password": 42}', "['password'] must be strings"),
    ],
)
def test_a_bad_credentials_file_is_refused_without_echoing_it(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = tmp_path / "creds.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"credentials file") as info:
        read_messages("some-campaign", credentials_file=path)
    assert complaint in str(info.value)
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_a_missing_credentials_file_is_refused_when_the_frame_is_built(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the credentials file"):
        read_messages("some-campaign", credentials_file=tmp_path / "absent.json")


# -- faults ---------------------------------------------------------------------------------


def test_failed_and_truncated_files_are_retried_inside_the_sdk(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=6, rows=200)
    failed = emu.faults.fail(FETCH, 503, times=2, when={"campaign_id": cid, "file_num": 1})
    cut = emu.faults.truncate(FETCH, when={"campaign_id": cid, "file_num": 4})
    result = read_messages(cid, files_per_partition=3).compute()
    assert (failed.fired, cut.fired) == (2, 1)
    assert records_of(result) == expected(emu, cid)


def test_a_partition_failing_past_the_sdk_retries_is_retried_by_dask_and_stays_exact(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=4, rows=50)
    # File 3 fails on every try of the partition's first run (the policy makes 4), while
    # file 2 of the same partition completes: the rerun must not repeat file 2's rows.
    failing = emu.faults.fail(FETCH, 500, times=4, when={"campaign_id": cid, "file_num": 3})
    df = read_messages(cid, files_per_partition=2, concurrency=1)
    result = df.compute(retries=1)
    assert failing.fired == 4
    assert records_of(result) == expected(emu, cid)
    assert len(result) == 200


def test_a_persistent_failure_reaches_the_caller_as_the_sdk_error(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=4, rows=10)
    emu.faults.fail(
        FETCH, 404, message="File not found.", times=None, when={"campaign_id": cid, "file_num": 1}
    )
    df = read_messages(cid, files_per_partition=2, concurrency=1)
    with pytest.raises(NotFoundError) as info:
        df.compute()
    error = info.value
    assert (error.status, error.message, error.endpoint) == (404, "File not found.", FETCH)
    assert error.completed_files == frozenset({0})  # file 0 of that partition was complete


def test_a_server_error_past_every_retry_keeps_its_type_and_attributes(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=1, rows=10)
    emu.faults.fail(FETCH, 502, times=None, retry_after=0, when={"campaign_id": cid})
    with pytest.raises(ServerError) as info:
        read_messages(cid).compute()
    assert (info.value.status, info.value.endpoint) == (502, FETCH)
    assert info.value.completed_files == frozenset()


# -- parquet --------------------------------------------------------------------------------


def test_parquet_round_trip_keeps_every_record(
    emu: Emulator, cluster: distributed.Client, tmp_path: Path
) -> None:
    cid = campaign(emu, files=5, extra_columns=("channel",))
    df = read_messages(cid, files_per_partition=2, extra_columns=("channel",))
    df.to_parquet(tmp_path / "out", write_index=False)
    back = dd.read_parquet(tmp_path / "out").compute()
    assert records_of(back) == expected(emu, cid)
    assert back.dtypes.to_dict() == df.dtypes.to_dict()
    assert len(list((tmp_path / "out").glob("*.parquet"))) == 3


# -- misuse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"files_per_partition": 0}, "files_per_partition must be a positive integer"),
        ({"files_per_partition": True}, "files_per_partition must be a positive integer"),
        ({"concurrency": 0}, "concurrency must be a positive integer"),
        ({"export_type": "xml"}, "export_type must be one of"),
        ({"export_type": "url", "run_number": 1}, "not available with run_number"),
        ({"file_nums": [-1]}, "file numbers start at 0"),
        ({"file_nums": [0, 3]}, r"file_nums \[3\] are out of range: the export has 3 files"),
        ({"extra_columns": ["row"]}, "'row' is always a column"),
        ({"extra_columns": ["a", "a"]}, "names a column twice"),
    ],
)
def test_bad_arguments_raise_value_error_before_any_partition_runs(
    emu: Emulator, cluster: distributed.Client, options: dict[str, Any], complaint: str
) -> None:
    cid = campaign(emu, files=3)
    fetches = emu.count(FETCH)
    with pytest.raises(ValueError, match=complaint):
        read_messages(cid, **options)
    assert emu.count(FETCH) == fetches


def test_one_string_of_extra_columns_is_a_type_error(emu: Emulator) -> None:
    with pytest.raises(TypeError, match="not one string"):
        read_messages("some-campaign", extra_columns="channel")


@pytest.mark.parametrize("missing", ["dask", "dask.dataframe", "pyarrow"])
def test_without_the_extra_the_import_error_names_it(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.delitem(sys.modules, "nudgescribe_async.dask")
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(ImportError, match=r"pip install 'nudgescribe-async\[dask\]'"):
        importlib.import_module("nudgescribe_async.dask")


# -- calling from async code ----------------------------------------------------------------


async def test_read_messages_works_from_inside_a_running_event_loop(
    emu: Emulator, cluster: distributed.Client
) -> None:
    asyncio.get_running_loop()  # a notebook cell: a loop runs in this very thread
    cid = campaign(emu, files=4)
    df = read_messages(cid, files_per_partition=2)
    assert df.npartitions == 2
    result = df.compute()
    assert records_of(result) == expected(emu, cid)


# -- the per-process loop -------------------------------------------------------------------


def test_each_process_runs_one_sdk_loop_thread_however_many_reads(
    emu: Emulator, cluster: distributed.Client
) -> None:
    cid = campaign(emu, files=6, rows=5)
    for fpp in (1, 2):
        read_messages(cid, files_per_partition=fpp, concurrency=3).compute()
    names = cluster.run(lambda: [t.name for t in threading.enumerate()])
    assert [n.count(_sync.THREAD_NAME) for n in names.values()] == [1, 1]
    assert [t.name for t in threading.enumerate()].count(_sync.THREAD_NAME) == 1


def test_a_blocking_call_on_the_sdk_loop_thread_is_refused() -> None:
    async def blocking_inside() -> None:
        _sync.run(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="own loop thread"):
        _sync.run(blocking_inside())


AT_EXIT_SCRIPT = """
import atexit, sys, threading
from nudgescribe_async import _sync
from nudgescribe_async._dask_io import ClientSource, PartitionReader

clients = []

def after_the_sdk_hook():  # registered before the SDK loop exists, so it runs after its hook
    loops = [t for t in threading.enumerate() if t.name == _sync.THREAD_NAME]
    session = clients[0]._session
    print(f"session_closed={session.closed} loop_threads={len(loops)}", flush=True)

atexit.register(after_the_sdk_hook)
reader = PartitionReader(sys.argv[1], "utf8", None, 2, (), ClientSource())
print(f"rows={len(reader((0, 1)))}", flush=True)
clients.append(_sync.run(ClientSource().client()))
"""


def test_a_process_closes_its_clients_and_stops_its_loop_at_exit(emu: Emulator) -> None:
    cid = campaign(emu, files=2, rows=7)
    root = str(Path(nudgescribe_async.__file__).resolve().parents[1])
    env = {**os.environ, **env_for(emu), "PYTHONPATH": root}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "error", "-c", AT_EXIT_SCRIPT, cid],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["rows=14", "session_closed=True", "loop_threads=0"]
    assert done.stderr == ""


# -- the command line -----------------------------------------------------------------------


def cli_options(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "export_type": "utf8",
        "run_number": None,
        "concurrency": 2,
        "files_per_partition": 2,
        "base_url": None,
        "credentials_file": None,
    }
    return {**options, **overrides}


def test_cli_export_writes_a_parquet_dataset_through_the_cluster_with_progress(
    emu: Emulator, cluster: distributed.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = campaign(emu, files=5)
    out = tmp_path / "export"
    code = export_to_parquet(cid, address=cluster.scheduler.address, out=str(out), **cli_options())
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out == ""
    assert f"exporting 3 partitions of campaign {cid}" in captured.err
    assert "100% Completed" in captured.err  # the progress bar, on stderr
    assert f"wrote 3 partitions to {out}" in captured.err
    assert records_of(pd.read_parquet(out)) == expected(emu, cid)


def test_cli_export_on_a_local_cluster(
    emu: Emulator, cluster: distributed.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = campaign(emu, files=3)
    out = tmp_path / "export"
    code = export_to_parquet(cid, address="local", out=str(out), **cli_options())
    assert code == 0, capsys.readouterr().err
    assert records_of(pd.read_parquet(out)) == expected(emu, cid)


def test_cli_export_failures_are_one_line_and_an_exit_code(
    emu: Emulator, cluster: distributed.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address, out = cluster.scheduler.address, str(tmp_path / "export")
    assert export_to_parquet("no-such-campaign", address=address, out=out, **cli_options()) == 4
    assert capsys.readouterr().err.splitlines() == [
        "nudgescribe: /v1/messages/pages answered 404: Campaign not found."
    ]
    cid = campaign(emu, files=2)
    emu.faults.fail(
        FETCH, 404, message="File not found.", times=None, when={"campaign_id": cid, "file_num": 1}
    )
    assert export_to_parquet(cid, address=address, out=out, **cli_options()) == 4
    assert capsys.readouterr().err.splitlines()[-1] == (
        "nudgescribe: /v1/messages/fetch answered 404: File not found."
    )
    bad = cli_options(files_per_partition=0)
    assert export_to_parquet(cid, address=address, out=out, **bad) == 2
    assert "files_per_partition must be a positive integer" in capsys.readouterr().err
