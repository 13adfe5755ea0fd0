package dev.bitfusion.systemtests;

import org.opentest4j.TestAbortedException;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Hosts made of network namespaces, in the shape of pods leaving their cluster towards GPU servers on another
 * network: two clients, each on a subnet of its own, behind a router that masquerades them (source NAT, so both
 * reach the server from the router's one address), and a server that has no route back to the clients' subnets.
 * <pre>
 *   client-a 10.200.0.2/24 ─┐
 *                           ├─ router 10.200.0.1, 10.200.1.1 │ MASQUERADE │ 10.100.0.1 ─── server 10.100.0.2/24
 *   client-b 10.200.1.2/24 ─┘                                                            (no route to 10.200/16)
 * </pre>
 * Every namespace's name carries a random tag, so runs on a shared host never meet; the interfaces are made inside
 * the namespaces and never appear in the host's. {@link #close()} ends whatever still runs inside them and deletes
 * them, and a shutdown hook does the same if the test's JVM ends first.
 * <p>
 * Making namespaces needs root, iproute2 and iptables with NAT in the kernel: where any of it is missing,
 * {@link #create()} skips the calling test, saying why on stderr.
 * <p>
 * Thread safety: make and close from one test thread; {@link #in} from any.
 */
final class NatNetwork implements AutoCloseable
{
    static final String CLIENT_A_ADDRESS = "10.200.0.2";
    static final String CLIENT_B_ADDRESS = "10.200.1.2";
    /** The router's address on the server's subnet: where the server sees both clients come from. */
    static final String NAT_ADDRESS = "10.100.0.1";
    static final String SERVER_ADDRESS = "10.100.0.2";

    private static final long COMMAND_TIMEOUT_S = 20;

    private final String ip;
    private final String iptables;
    private final String clientA;
    private final String clientB;
    private final String router;
    private final String server;
    private final List<String> made = new ArrayList<>();
    private final Thread cleanupAtExit = new Thread(this::deleteNamespaces, "nat-network-cleanup");

    private NatNetwork(final String ip, final String iptables, final String tag)
    {
        this.ip = ip;
        this.iptables = iptables;
        clientA = tag + "-client-a";
        clientB = tag + "-client-b";
        router = tag + "-router";
        server = tag + "-server";
    }

    /**
     * Make the namespaces, or skip the calling test where they cannot be made.
     *
     * @return the hosts, ready.
     */
    static NatNetwork create() throws IOException, InterruptedException
    {
        final String ip = executable("ip");
        final String iptables = executable("iptables");
        if (null == ip)
        {
            throw skip("no 'ip' command (install iproute2)");
        }
        if (null == iptables)
        {
            throw skip("no 'iptables' command (install iptables)");
        }
        if (!isRoot())
        {
            throw skip("not root: network namespaces and NAT rules need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)");
        }

        final NatNetwork network =
            new NatNetwork(ip, iptables, "bfnat-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 24));
        Runtime.getRuntime().addShutdownHook(network.cleanupAtExit);
        try
        {
            network.build();
        }
        catch (final SetupFailure ex)
        {
            network.close();
            throw skip(ex.getMessage());
        }
        return network;
    }

    /**
     * @param namespace a namespace of this network ({@link #clientA()}, {@link #clientB()}, {@link #server()}).
     * @param command   the command to run there.
     * @return the command line that runs it inside the namespace.
     */
    List<String> in(final String namespace, final List<String> command)
    {
        final List<String> line = new ArrayList<>(List.of(ip, "netns", "exec", namespace));
        line.addAll(command);
        return line;
    }

    String clientA()
    {
        return clientA;
    }

    String clientB()
    {
        return clientB;
    }

    String server()
    {
        return server;
    }

    /**
     * Drop UDP to a port as it crosses the router, as a firewall between the networks that opened only some of the
     * server's ports would.
     *
     * @param port the destination port to drop.
     */
    void dropAtRouter(final int port) throws IOException, InterruptedException
    {
        final String failure = execute(in(router,
            List.of(iptables, "-w", "-A", "FORWARD", "-p", "udp", "--dport", Integer.toString(port), "-j", "DROP")));
        if (failure != null)
        {
            throw new IllegalStateException(failure);
        }
    }

    /**
     * @return what the server's namespace answers when asked for its route to client A: it has none, so only the
     * NAT makes replies possible.
     */
    String serverRouteToClient() throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(ip, "-n", server, "route", "get", CLIENT_A_ADDRESS)
            .redirectErrorStream(true).start();
        final String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        process.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS);
        return text;
    }

    public void close()
    {
        deleteNamespaces();
        try
        {
            Runtime.getRuntime().removeShutdownHook(cleanupAtExit);
        }
        catch (final IllegalStateException ex)
        {
            // The JVM is already shutting down, and the hook runs or has run: nothing left to undo.
        }
    }

    private void build() throws IOException, InterruptedException
    {
        for (final String namespace : List.of(clientA, clientB, router, server))
        {
            setup(ip, "netns", "add", namespace);
            made.add(namespace);
            setup(ip, "-n", namespace, "link", "set", "lo", "up");
        }
        link("to-a", clientA, "10.200.0.1/24", CLIENT_A_ADDRESS + "/24");
        link("to-b", clientB, "10.200.1.1/24", CLIENT_B_ADDRESS + "/24");
        link("to-server", server, NAT_ADDRESS + "/24", SERVER_ADDRESS + "/24");
        setup(ip, "-n", clientA, "route", "add", "default", "via", "10.200.0.1");
        setup(ip, "-n", clientB, "route", "add", "default", "via", "10.200.1.1");
        // The server gets no route beyond its own subnet: without the NAT, no reply could find a client.
        setup(ip, "netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        setup(ip, "netns", "exec", router,
            iptables, "-w", "-t", "nat", "-A", "POSTROUTING", "-o", "to-server", "-j", "MASQUERADE");
    }

    /**
     * A veth pair from the router to a host, both ends addressed and up.
     */
    private void link(final String routerEnd, final String host, final String routerAddress, final String hostAddress)
        throws IOException, InterruptedException
    {
        setup(ip, "-n", router, "link", "add", routerEnd, "type", "veth", "peer", "name", "eth0", "netns", host);
        setup(ip, "-n", router, "address", "add", routerAddress, "dev", routerEnd);
        setup(ip, "-n", router, "link", "set", routerEnd, "up");
        setup(ip, "-n", host, "address", "add", hostAddress, "dev", "eth0");
        setup(ip, "-n", host, "link", "set", "eth0", "up");
    }

    private static void setup(final String... command) throws IOException, InterruptedException
    {
        final String failure = execute(List.of(command));
        if (failure != null)
        {
            throw new SetupFailure(failure);
        }
    }

    /**
     * @return null when the command succeeded, else what it was and what it said.
     */
    private static String execute(final List<String> command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!process.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            return "'" + String.join(" ", command) + "' did not finish in " + COMMAND_TIMEOUT_S + " s";
        }
        return process.exitValue() == 0 ? null :
            "'" + String.join(" ", command) + "' failed (exit " + process.exitValue() + "): " + output;
    }

    /**
     * Ends every process still inside a namespace (a namespace outlives its deletion while one runs there), then
     * deletes it. Safe to call twice.
     */
    private synchronized void deleteNamespaces()
    {
        for (final String namespace : made)
        {
            try
            {
                final Process pids = new ProcessBuilder(ip, "netns", "pids", namespace).start();
                for (final String pid : new String(pids.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                    .strip().split("\\s+"))
                {
                    if (!pid.isEmpty())
                    {
                        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
                pids.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS);
                final String failure = execute(List.of(ip, "netns", "delete", namespace));
                if (failure != null)
                {
                    System.err.println("NatNetwork: " + failure);
                }
            }
            catch (final IOException | NumberFormatException ex)
            {
                System.err.println("NatNetwork: could not delete namespace " + namespace + ": " + ex);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
        }
        made.clear();
    }

    /**
     * @param why what is missing, for a person.
     * @return what skips the calling test, said on stderr too.
     */
    private static TestAbortedException skip(final String why)
    {
        System.err.println("*** NatSystemTest: SKIPPED, network namespaces cannot be made here: " + why + " ***");
        return new TestAbortedException("network namespaces cannot be made here: " + why);
    }

    private static boolean isRoot() throws IOException
    {
        // The owner of /proc/self is this process's user.
        return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }

    /**
     * @return the command's path on PATH or in the system directories root's PATH has, or null.
     */
    private static String executable(final String name)
    {
        final List<String> directories = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        directories.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (final String directory : directories)
        {
            if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, name)))
            {
                return Path.of(directory, name).toString();
            }
        }
        return null;
    }

    /**
     * A step of making the network failed: the test is skipped, not failed, as the host cannot make it.
     */
    private static final class SetupFailure extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        SetupFailure(final String message)
        {
            super(message);
        }
    }
}
