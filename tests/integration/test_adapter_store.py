"""The adapter store in an S3-compatible bucket, against a real S3 wire protocol: moto's
server on 127.0.0.1 (``tests.fakes.s3``), the real boto3 pointed at it, botocore parsing its
replies against S3's service model. Adapters are folders of real files (a PEFT config, a
safetensors file, ``arbiter.json``): uploaded whole, ``arbiter.json`` last; read by a second
instance (another data directory, empty cache) through the bucket; a half upload or half
download is never used; transient faults are retried, lasting ones fail with one line naming
the bucket, never a credential; the training process uploads before its job succeeds, once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from core.errors import DeploymentFailed, ProviderError
from core.providers.base import ChatTurn, Hyperparameters, JobRequest
from core.providers.open_weights import OpenWeightsProvider
from core.providers.open_weights_serving import AdapterServer, ServeSettings, client_for
from core.training.lora import jobs, runner
from core.training.lora import store as adapter_store
from core.training.lora.errors import AdapterMissing, AdapterStoreFailed
from core.training.lora.store import S3Store
from tests.fakes.s3 import ADAPTER_BUCKET, KEY_ID, SECRET, FakeS3, fake_credentials
from tests.fakes.vllm import FakeVllm
from tests.notify_receivers import free_port

BUCKET = ADAPTER_BUCKET
URL = f"s3://{BUCKET}/studio/v1"
MODEL = "ow-quillmore-0123456789abcdef"
FILES = ["adapter_config.json", "adapter_model.safetensors", "arbiter.json"]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS3]:
    fake_credentials(monkeypatch)
    with FakeS3() as server:
        server.create_bucket(BUCKET)
        yield server


def _store(s3: FakeS3, cache: Path, attempts: int = 5, url: str = URL) -> S3Store:
    return S3Store(url, cache, endpoint_url=s3.endpoint_url, attempts=attempts, timeout=10)


def _save_adapter(folder: Path) -> np.ndarray:
    """A folder as PEFT and the training process leave it: config, weights, arbiter.json."""
    folder.mkdir(parents=True)
    config = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    weights = np.arange(4 * 64, dtype=np.float32).reshape(4, 64) / 7
    save_file({"base_model.model.layers.0.self_attn.q_proj.lora_A.weight": weights},
              str(folder / "adapter_model.safetensors"))  # fmt: skip
    (folder / "arbiter.json").write_text(json.dumps({"base_model": "SmolLM2-135M-Instruct"}))
    return weights


def _puts(s3: FakeS3) -> list[str]:
    prefix = f"/{BUCKET}/studio/v1/{MODEL}/"
    return [p.removeprefix(prefix) for m, p in s3.requests if m == "PUT" and p.startswith(prefix)]


def _one_line_without_secrets(text: str) -> None:
    assert "\n" not in text and SECRET not in text and KEY_ID not in text


def test_an_adapter_goes_round_the_bucket_to_a_second_instance(
    s3: FakeS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _save_adapter(tmp_path / "a" / "adapters" / MODEL)
    trainer = _store(s3, tmp_path / "a" / "adapters")
    trainer.publish(MODEL)
    assert _puts(s3) == ["adapter_config.json", "adapter_model.safetensors", "arbiter.json"]
    trainer.publish(MODEL)  # a second time (a resumed process): nothing is sent again
    assert len(_puts(s3)) == 3

    # Another instance, configured as every instance is, reads it through the bucket.
    monkeypatch.setenv("ARBITER_ADAPTER_STORE", URL)
    monkeypatch.setenv("ARBITER_S3_ENDPOINT_URL", s3.endpoint_url)
    app = OpenWeightsProvider(tmp_path / "b")
    assert isinstance(app.store, S3Store) and app.store.url == URL
    assert not app.adapter_dir(MODEL).exists()
    folder = app.store.fetch(MODEL)
    assert folder == tmp_path / "b" / "adapters" / MODEL
    assert sorted(p.name for p in folder.iterdir()) == FILES
    (loaded,) = load_file(str(folder / "adapter_model.safetensors")).values()
    assert np.array_equal(loaded, weights)
    for name in FILES:
        original = tmp_path / "a" / "adapters" / MODEL / name
        assert (folder / name).read_bytes() == original.read_bytes()
    gets = sum(1 for m, _ in s3.requests if m == "GET")
    assert app.store.fetch(MODEL) == folder  # the local copy now: the bucket is not asked
    assert sum(1 for m, _ in s3.requests if m == "GET") == gets


def test_concurrent_readers_place_one_whole_copy(s3: FakeS3, tmp_path: Path) -> None:
    _save_adapter(tmp_path / "a" / MODEL)
    _store(s3, tmp_path / "a").publish(MODEL)
    readers = [_store(s3, tmp_path / "b") for _ in range(4)]
    found: list[Path] = []
    errors: list[BaseException] = []

    def read(store: S3Store) -> None:
        try:
            found.append(store.fetch(MODEL))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(r,)) for r in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and found == [tmp_path / "b" / MODEL] * 4
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [MODEL]  # no partial left
    assert sorted(p.name for p in found[0].iterdir()) == FILES


def test_a_half_uploaded_adapter_is_never_used(s3: FakeS3, tmp_path: Path) -> None:
    _save_adapter(tmp_path / "a" / MODEL)
    trainer = _store(s3, tmp_path / "a", attempts=2)
    s3.fail(None, 500, "InternalError", lambda method, path: path.endswith("/arbiter.json"))
    with pytest.raises(AdapterStoreFailed) as failed:
        trainer.publish(MODEL)  # the weights are up, the marker is not
    assert failed.value.message.startswith(f"The adapter store {URL} could not take the adapter")
    assert "InternalError" in failed.value.message
    _one_line_without_secrets(failed.value.message)
    puts = _puts(s3)  # the marker tried again (botocore's retries), never before the weights
    assert puts[:2] == FILES[:2] and set(puts[2:]) == {"arbiter.json"}
    s3.heal()

    reader = _store(s3, tmp_path / "b")
    with pytest.raises(AdapterMissing, match=f"{MODEL} is not in the adapter store {URL}"):
        reader.fetch(MODEL)
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())

    trainer.publish(MODEL)  # the job's next process: uploads it whole, the marker last
    assert _puts(s3)[-3:] == FILES
    assert sorted(p.name for p in reader.fetch(MODEL).iterdir()) == FILES


def test_a_half_download_is_never_used(s3: FakeS3, tmp_path: Path) -> None:
    _save_adapter(tmp_path / "a" / MODEL)
    _store(s3, tmp_path / "a").publish(MODEL)
    reader = _store(s3, tmp_path / "b", attempts=2)
    s3.fail(None, 500, "InternalError", lambda m, path: path.endswith(".safetensors"))
    with pytest.raises(AdapterStoreFailed, match="could not download the adapter") as failed:
        reader.fetch(MODEL)
    _one_line_without_secrets(failed.value.message)
    assert not any((tmp_path / "b").iterdir())  # neither the adapter nor a partial folder
    s3.heal()
    assert sorted(p.name for p in reader.fetch(MODEL).iterdir()) == FILES


def test_transient_faults_are_retried(s3: FakeS3, tmp_path: Path) -> None:
    _save_adapter(tmp_path / "a" / MODEL)
    s3.fail(2, 503, "SlowDown")
    _store(s3, tmp_path / "a").publish(MODEL)
    s3.fail(2, 500, "InternalError")
    folder = _store(s3, tmp_path / "b").fetch(MODEL)
    assert sorted(p.name for p in folder.iterdir()) == FILES
    assert _puts(s3)[-3:] == FILES
    assert [code for _, _, code in s3.faulted] == ["SlowDown"] * 2 + ["InternalError"] * 2


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (503, "SlowDown", "SlowDown (Please reduce your request rate.)"),
        (500, "InternalError", "InternalError (We encountered an internal error"),
        (403, "AccessDenied", "AccessDenied (Access Denied); check the credentials"),
    ],
)
def test_a_lasting_fault_fails_with_one_clear_line(
    s3: FakeS3, tmp_path: Path, status: int, code: str, reason: str
) -> None:
    _save_adapter(tmp_path / "a" / MODEL)
    s3.fail(None, status, code)
    with pytest.raises(AdapterStoreFailed) as failed:
        _store(s3, tmp_path / "a", attempts=2).publish(MODEL)
    message = failed.value.message
    assert message.startswith(f"The adapter store {URL} could not take the adapter {MODEL}: ")
    assert reason in message
    _one_line_without_secrets(message)
    with pytest.raises(AdapterStoreFailed, match=code) as reading:
        _store(s3, tmp_path / "b", attempts=2).fetch(MODEL)
    _one_line_without_secrets(reading.value.message)


def test_a_bucket_that_does_not_exist_or_a_server_that_is_down(s3: FakeS3, tmp_path: Path) -> None:
    _save_adapter(tmp_path / "a" / MODEL)
    with pytest.raises(AdapterStoreFailed, match="NoSuchBucket") as missing:
        _store(s3, tmp_path / "a", url="s3://no-such-bucket-here").publish(MODEL)
    assert "s3://no-such-bucket-here" in missing.value.message
    _one_line_without_secrets(missing.value.message)

    down = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    store = S3Store(URL, tmp_path / "a", endpoint_url=down, attempts=2, timeout=2)
    with pytest.raises(AdapterStoreFailed) as failed:
        store.publish(MODEL)
    assert failed.value.message == (
        f"The adapter store {URL} could not take the adapter {MODEL}: "
        f"the server does not answer ({down} cannot be reached)."
    )
    with pytest.raises(AdapterStoreFailed, match=f"{URL} could not read the adapter"):
        S3Store(URL, tmp_path / "c", endpoint_url=down, attempts=1, timeout=2).fetch(MODEL)


def test_a_missing_adapter_is_named_with_its_bucket(s3: FakeS3, tmp_path: Path) -> None:
    with pytest.raises(AdapterMissing) as missing:
        _store(s3, tmp_path / "b").fetch(MODEL)
    assert missing.value.message == (
        f"The adapter of {MODEL} is not in the adapter store {URL} "
        f"(no studio/v1/{MODEL}/arbiter.json in bucket {BUCKET})."
    )
    with pytest.raises(AdapterMissing, match=f"The adapter of {MODEL} is missing"):
        _store(s3, tmp_path / "a").publish(MODEL)  # nothing saved to upload


def _job(tmp_path: Path, job_id: str, model: str) -> Path:
    """A job folder whose training already saved its adapter (the process then died)."""
    cache = tmp_path / "adapters"
    _save_adapter(cache / model)
    folder = tmp_path / "jobs" / job_id
    folder.mkdir(parents=True)
    spec = jobs.JobSpec(
        id=job_id,
        model=model,
        base_model="SmolLM2-135M-Instruct",
        training_file=str(tmp_path / "unused.jsonl"),
        adapter_dir=str(cache / model),
        cache_dir=str(tmp_path / "base-models"),
        adapter_store=URL,
    )
    jobs.save_spec(folder, spec)
    return folder


def test_the_training_process_uploads_before_its_job_succeeds_and_only_once(
    s3: FakeS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_S3_ENDPOINT_URL", s3.endpoint_url)
    folder = _job(tmp_path, "ftjob-ow-0123456789abcdef", MODEL)
    assert runner.run(folder) == 0
    progress = jobs.load_progress(folder)
    assert progress["status"] == "succeeded", progress.get("error")
    assert _puts(s3) == FILES
    messages = [e["message"] for e in progress["events"]]
    assert messages[-2:] == [f"Uploading the adapter to {URL}", f"New model ready: {MODEL}"]

    # A job whose earlier process uploaded it whole before dying: nothing is sent again.
    (folder / jobs.PROGRESS).unlink()
    assert runner.run(folder) == 0
    assert jobs.load_progress(folder)["status"] == "succeeded" and len(_puts(s3)) == 3


def test_a_job_whose_upload_fails_fails_naming_the_bucket(
    s3: FakeS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_S3_ENDPOINT_URL", s3.endpoint_url)
    folder = _job(tmp_path, "ftjob-ow-fedcba9876543210", MODEL)
    s3.fail(None, 403, "AccessDenied", lambda method, path: method == "PUT")
    assert runner.run(folder) == 0
    progress = jobs.load_progress(folder)
    assert progress["status"] == "failed"
    error = str(progress["error"])
    assert error.startswith(f"The adapter store {URL} could not take the adapter {MODEL}: ")
    assert "AccessDenied" in error
    _one_line_without_secrets(error)
    assert SECRET not in (folder / jobs.PROGRESS).read_text()


def test_the_store_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARBITER_ADAPTER_STORE", raising=False)
    default = adapter_store.from_config(tmp_path)
    assert isinstance(default, adapter_store.DirectoryStore)
    assert default.local(MODEL) == tmp_path / "adapters" / MODEL
    monkeypatch.setenv("ARBITER_ADAPTER_STORE", str(tmp_path / "shared"))
    assert adapter_store.from_config(tmp_path).local(MODEL) == tmp_path / "shared" / MODEL
    with pytest.raises(AdapterMissing, match=f"The adapter of {MODEL} is missing"):
        adapter_store.from_config(tmp_path).fetch(MODEL)
    for wrong in ("gs://bucket/x", "s3://Not_A_Bucket", "s3://"):
        monkeypatch.setenv("ARBITER_ADAPTER_STORE", wrong)
        with pytest.raises(ProviderError, match="ARBITER_ADAPTER_STORE"):
            adapter_store.from_config(tmp_path)
    store = S3Store("s3://bucket", tmp_path)
    for hostile in ("../etc", "a/b", ".hidden", ""):
        with pytest.raises(ProviderError, match="is not the name of a trained adapter"):
            store.local(hostile)


def test_chat_dpo_and_serving_read_through_the_bucket(s3: FakeS3, tmp_path: Path) -> None:
    """An instance that never trained: publishing to vLLM fetches the adapter first (the
    server reads its local copy); chat and DPO on a version not in the bucket say so."""
    _save_adapter(tmp_path / "trainer" / MODEL)
    _store(s3, tmp_path / "trainer").publish(MODEL)
    store = _store(s3, tmp_path / "app" / "adapters")
    with FakeVllm(base_model="SmolLM2-135M-Instruct") as vllm:
        server = AdapterServer(client_for(ServeSettings(vllm.base_url), None), store)
        app = OpenWeightsProvider(tmp_path / "app", serving=server)
        assert app.store is store
        assert server.deploy(MODEL, MODEL).state == "Succeeded"
        local = tmp_path / "app" / "adapters" / MODEL
        assert vllm.loads == [{"lora_name": MODEL, "lora_path": str(local)}]
        assert sorted(p.name for p in local.iterdir()) == FILES
        with pytest.raises(DeploymentFailed, match="The adapter of ow-gone-1 is missing"):
            server.deploy("ow-gone-1", "ow-gone-1")

    in_process = OpenWeightsProvider(tmp_path / "other", store=_store(s3, tmp_path / "other"))
    turns = [ChatTurn("user", "Where is the key?")]
    with pytest.raises(AdapterMissing, match=f"ow-gone-1 is not in the adapter store {URL}"):
        list(in_process.chat("ow-gone-1", turns))
    request = JobRequest(
        training_file_id="file-ow-none",
        base_model="ow-gone-1",
        suffix="dpo",
        hyperparameters=Hyperparameters(),
        metadata={},
        method="dpo",
    )
    with pytest.raises(ProviderError, match="ow-gone-1 is not one"):
        in_process.create_job(request)
