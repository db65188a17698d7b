"""The real AsyncAnthropic client over a scripted Messages API (``FakeAPI`` on an httpx2 MockTransport),
and one episode or one batch run through it."""

import asyncio

import httpx2

from grader.agent.episode import run_episode
from grader.agent.runner import BatchConfig, run_batch
from grader.agent.runlog import RunLog
from tests.grader.runner_fixtures.fake_api import FakeAPI


def client_for(api: FakeAPI, max_retries: int = 2):
    import anthropic

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(api.handle_httpx_async))
    return anthropic.AsyncAnthropic(api_key="test-key", base_url="http://api.test", http_client=http, max_retries=max_retries)


def episode(scenario: str, max_retries: int = 2, **kwargs):
    api = FakeAPI([scenario])

    async def go():
        async with client_for(api, max_retries) as client:
            return await run_episode(client, **kwargs)

    ep = asyncio.run(go())
    assert api.errors == []
    return ep, api


def batch(api: FakeAPI, config: BatchConfig, log: RunLog, on_line=None):
    lines = []

    def echo(line):
        lines.append(line)
        if on_line:
            on_line(line)

    async def go():
        async with client_for(api, max_retries=1) as client:
            return await run_batch(client, config, log, echo=echo)

    return asyncio.run(go()), lines


def tool_results(ep):
    return [b for m in ep.messages if m["role"] == "user" and isinstance(m["content"], list) for b in m["content"]]
