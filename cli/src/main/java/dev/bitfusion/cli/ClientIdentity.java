package dev.bitfusion.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who holds a slice, read out of the client id the server lists it by. Client ids are written by the clients
 * ({@link dev.bitfusion.agent.ClientSettings#defaultClientId()}, then what the holder adds):
 * <pre>
 *   user@host:pid (pid@host)                                   a program's own session
 *   user@host:pid (pid@host) [tag]                             a session of a job, tagged by its holder
 *   user@host:pid (pid@host) bitfusion run: COMMAND [tag]      bitfusion run holding a job's slices
 * </pre>
 * The pid is that of the process that opened the session: for {@code bitfusion run}, the command's own JVM, whose
 * child is the program. Any id of another shape (a client of another version, a redacted
 * {@code (another tenant)}) is kept whole in {@link #id()} with the other fields null.
 *
 * @param id      the client id as the server listed it.
 * @param user    the user who ran the client, or null.
 * @param host    the host it ran on, or null.
 * @param pid     its process id, or null.
 * @param command the command it runs, or null when the id does not say.
 * @param tag     the tag of the job it belongs to, or null.
 */
record ClientIdentity(String id, String user, String host, Long pid, String command, String tag)
{
    private static final Pattern PROCESS = Pattern.compile("^([^@\\s]+)@([^:\\s]+):(\\d{1,19}) \\([^)]*\\)");
    private static final Pattern TAG = Pattern.compile(" \\[([^\\[\\]]*)\\]$");
    private static final Pattern HOLDER = Pattern.compile("^bitfusion [\\w-]+: (.+)$", Pattern.DOTALL);

    /**
     * @param clientId a client id as listed.
     * @return what it says; never null.
     */
    static ClientIdentity parse(final String clientId)
    {
        final Matcher process = PROCESS.matcher(clientId);
        if (!process.find())
        {
            return new ClientIdentity(clientId, null, null, null, null, null);
        }
        final long pid;
        try
        {
            pid = Long.parseLong(process.group(3));
        }
        catch (final NumberFormatException ex)
        {
            return new ClientIdentity(clientId, null, null, null, null, null);
        }
        String rest = clientId.substring(process.end());
        String tag = null;
        final Matcher tagged = TAG.matcher(rest);
        if (tagged.find())
        {
            tag = tagged.group(1);
            rest = rest.substring(0, tagged.start());
        }
        rest = rest.strip();
        final Matcher holder = HOLDER.matcher(rest);
        final String command = holder.matches() ? holder.group(1) : rest.isEmpty() ? null : rest;
        return new ClientIdentity(clientId, process.group(1), process.group(2), pid, command, tag);
    }
}
