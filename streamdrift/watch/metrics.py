"""``--metrics-port``: a watch's progress and latest drift for Prometheus, through ``prometheus_client``.

Optional: ``pip install 'streamdrift[metrics]'``; imported only when metrics are asked for.
Served on its own registry (no process or platform collectors), from a daemon thread.
"""

import math
import time

from streamdrift.errors import DriftError


class Metrics:
    """Gauges of each feature's latest KL and drifted flag and of the last window's time; counters of
    rows, windows, drifted windows and file errors. ``window``, ``batch`` and ``problem`` are the watch's hooks."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        try:
            import prometheus_client as prom
        except ImportError:
            raise DriftError("--metrics-port needs prometheus_client: pip install 'streamdrift[metrics]'") from None
        self.registry = prom.CollectorRegistry(auto_describe=True)
        gauge = lambda name, text, *labels: prom.Gauge(name, text, labels, registry=self.registry)  # noqa: E731
        counter = lambda name, text: prom.Counter(name, text, registry=self.registry)  # noqa: E731
        self.kl = gauge("streamdrift_feature_kl", "KL(reference || window) of the latest window (NaN: undefined)",
                        "feature")
        self.drifted = gauge("streamdrift_feature_drifted", "1 when the feature drifted in the latest window",
                             "feature")
        self.last_window = gauge("streamdrift_last_window_timestamp_seconds", "Unix time the latest window closed")
        self.rows = counter("streamdrift_rows", "Rows counted")
        self.windows = counter("streamdrift_windows", "Windows reported")
        self.drifted_windows = counter("streamdrift_drifted_windows", "Windows with at least one drifted feature")
        self.file_errors = counter("streamdrift_file_errors", "Files that could not be read (skipped)")
        self._counted = None
        try:
            self.server, _ = prom.start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise DriftError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}; "
                             "choose another --metrics-port (or --metrics-host)") from None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/metrics"

    def batch(self, watcher) -> None:
        """After each batch: the rows counted since the last call."""
        if self._counted is None:
            self._counted = watcher.first_row  # a watch continued from --state starts there
        self.rows.inc(watcher.rows - self._counted)
        self._counted = watcher.rows

    def window(self, window) -> None:
        for f in window.features:
            self.kl.labels(f.feature).set(math.nan if f.kl is None else f.kl)
            self.drifted.labels(f.feature).set(float(f.drifted))
        self.windows.inc()
        self.drifted_windows.inc(bool(window.drifted))
        self.last_window.set(time.time())

    def problem(self, problem) -> None:
        self.file_errors.inc()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
