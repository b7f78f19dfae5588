#!/usr/bin/env python3
"""RTSP server for the camhub camera simulator: one process, one mount per simulated camera.

Encoding is the expensive part, so it is shared: three source pipelines ("feeds": a moving test pattern, a
static picture for a frozen camera, a black picture) are each encoded once and their H.264 access units are
fanned out to every client media through an appsrc. A camera's mode only selects which feed its clients receive,
so 100 cameras cost three encoders, and a feed only runs while some client is watching it.

Control is line-based on stdin:  `mode <camera-id> live|frozen|black`. EOF on stdin means the parent (Node)
has gone, and the server exits: the simulator never leaves this process behind.
Stdout carries `READY <port>` once listening, and `ERROR <reason>` before a failed start.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstRtspServer, GstVideo  # noqa: E402

FEED_PATTERNS = {
    # Moving bars and a running clock: live, never black, never frozen. (smpte75, not smpte: the latter has a
    # patch of random snow, which would make the "frozen" picture move.)
    "live": "videotestsrc is-live=true pattern=smpte75 horizontal-speed=4 ! {caps} "
    "! timeoverlay font-desc=\"Sans 20\" valignment=bottom",
    # The same bars standing still: what a camera with a hung encoder keeps sending.
    "frozen": "videotestsrc is-live=true pattern=smpte75 ! {caps}",
    "black": "videotestsrc is-live=true pattern=black ! {caps}",
}
H264_CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"


def log(message):
    print(message, file=sys.stderr, flush=True)


class Feed:
    """One encoded source shared by every client currently showing it."""

    def __init__(self, name, width, height, fps, bitrate_kbps):
        # I420 + constrained-baseline: what every decoder (browsers, ffmpeg, NVRs) accepts, and the cheapest to encode.
        raw_caps = f"video/x-raw,format=I420,width={width},height={height},framerate={fps}/1"
        description = (
            FEED_PATTERNS[name].format(caps=raw_caps)
            + f" ! videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast bitrate={bitrate_kbps}"
            f" key-int-max={fps * 2} threads=1"
            " ! video/x-h264,profile=constrained-baseline"
            f" ! h264parse config-interval=-1 ! {H264_CAPS} ! appsink name=sink emit-signals=true sync=false"
            " max-buffers=4 drop=true"
        )
        self.name = name
        self.pipeline = Gst.parse_launch(description)
        self.sink = self.pipeline.get_by_name("sink")
        self.sink.connect("new-sample", self._on_sample)
        self.clients = set()
        self.running = False

    def attach(self, client):
        client.waiting_for_keyframe = True
        self.clients.add(client)
        if not self.running:
            self.running = True
            self.pipeline.set_state(Gst.State.PLAYING)
        else:
            self._request_keyframe()

    def detach(self, client):
        self.clients.discard(client)
        if not self.clients and self.running:
            self.running = False
            self.pipeline.set_state(Gst.State.NULL)

    def _request_keyframe(self):
        # A joining client can only start decoding at an IDR frame; ask the encoder for one now instead of
        # making the viewer wait for the next periodic keyframe.
        event = GstVideo.video_event_new_upstream_force_key_unit(Gst.CLOCK_TIME_NONE, True, 0)
        self.sink.get_static_pad("sink").send_event(event)

    def _on_sample(self, sink):
        sample = sink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.OK
        buffer = sample.get_buffer()
        is_keyframe = not buffer.has_flags(Gst.BufferFlags.DELTA_UNIT)
        for client in list(self.clients):
            client.push(buffer, is_keyframe)
        return Gst.FlowReturn.OK


class Client:
    """The appsrc of one RTSP media (shared by all viewers of one camera)."""

    def __init__(self, camera_id, appsrc):
        self.camera_id = camera_id
        self.appsrc = appsrc
        self.waiting_for_keyframe = True
        self.feed = None

    def push(self, buffer, is_keyframe):
        if self.waiting_for_keyframe:
            if not is_keyframe:
                return
            self.waiting_for_keyframe = False
        copy = buffer.copy()
        # appsrc (do-timestamp) stamps buffers with this media's own running time.
        copy.pts = Gst.CLOCK_TIME_NONE
        copy.dts = Gst.CLOCK_TIME_NONE
        copy.duration = Gst.CLOCK_TIME_NONE
        self.appsrc.emit("push-buffer", copy)


class Simulator:
    def __init__(self, args):
        self.feeds = {name: Feed(name, args.width, args.height, args.fps, args.bitrate) for name in FEED_PATTERNS}
        self.modes = {camera_id: "live" for camera_id in args.cameras.split(",") if camera_id}
        self.clients = set()
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address(args.host)
        self.server.set_service(str(args.port))
        mounts = self.server.get_mount_points()
        for camera_id in self.modes:
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(
                f"( appsrc name=src is-live=true format=time do-timestamp=true caps=\"{H264_CAPS}\" "
                "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
            )
            # One media per camera however many viewers: the per-client cost is packetising only.
            factory.set_shared(True)
            factory.connect("media-configure", self._on_media_configure, camera_id)
            mounts.add_factory(f"/{camera_id}", factory)

    def _on_media_configure(self, _factory, media, camera_id):
        appsrc = media.get_element().get_by_name("src")
        client = Client(camera_id, appsrc)
        self.clients.add(client)
        self._route(client)
        media.connect("unprepared", self._on_media_unprepared, client)

    def _on_media_unprepared(self, _media, client):
        if client.feed is not None:
            client.feed.detach(client)
        self.clients.discard(client)

    def _route(self, client):
        feed = self.feeds[self.modes[client.camera_id]]
        if client.feed is feed:
            return
        if client.feed is not None:
            client.feed.detach(client)
        client.feed = feed
        feed.attach(client)

    def set_mode(self, camera_id, mode):
        if camera_id not in self.modes:
            return f"unknown camera {camera_id}"
        if mode not in self.feeds:
            return f"unknown mode {mode}"
        self.modes[camera_id] = mode
        for client in list(self.clients):
            if client.camera_id == camera_id:
                self._route(client)
        return None

    def start(self):
        if self.server.attach(None) == 0:
            return False
        # The bound port, which differs from the requested one when 0 was asked for.
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cameras", required=True, help="comma-separated camera ids, one mount each")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--bitrate", type=int, default=256, help="kbit/s per feed")
    args = parser.parse_args()

    Gst.init(None)
    simulator = Simulator(args)
    loop = GLib.MainLoop()

    def on_stdin(channel, condition):
        if condition & (GLib.IO_HUP | GLib.IO_ERR):
            loop.quit()
            return False
        line = channel.readline()
        if not line:
            loop.quit()
            return False
        parts = line.split()
        if len(parts) == 3 and parts[0] == "mode":
            problem = simulator.set_mode(parts[1], parts[2])
            print(f"ERROR {problem}" if problem else f"OK mode {parts[1]} {parts[2]}", flush=True)
        elif parts:
            print(f"ERROR unknown command {parts[0]}", flush=True)
        return True

    stdin = GLib.IOChannel.unix_new(sys.stdin.fileno())
    GLib.io_add_watch(stdin, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)

    if not simulator.start():
        print(f"ERROR cannot listen on {args.host}:{args.port}", flush=True)
        sys.exit(2)
    print(f"READY {simulator.server.get_bound_port()}", flush=True)
    loop.run()
    for feed in simulator.feeds.values():
        feed.pipeline.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
