"""A line echo server on Python asyncio: the peer a script writer would reach for.

Binds 127.0.0.1 (port 0 by default, or the first argument), prints the port on the first line of
stdout, echoes every complete line back, and exits when stdin closes.
"""
import asyncio
import sys


class LineEcho(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.held = b""

    def data_received(self, data):
        if self.held:
            data = self.held + data
        end = data.rfind(b"\n") + 1
        if end:
            self.transport.write(data[:end])
        self.held = data[end:]


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    loop = asyncio.get_running_loop()
    server = await loop.create_server(LineEcho, "127.0.0.1", port, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    # Runs until the parent closes stdin (or kills the process).
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
