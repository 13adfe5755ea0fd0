package dev.bitfusion.systemtests;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Command lines for JVMs started by system tests: the test's own class path, with the opens Agrona needs.
 */
final class JavaProcess
{
    private JavaProcess()
    {
    }

    static List<String> command(final String mainClass)
    {
        final List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.add("--add-opens");
        command.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        command.add("--add-opens");
        command.add("java.base/java.nio=ALL-UNNAMED");
        command.add("--add-opens");
        command.add("java.base/sun.nio.ch=ALL-UNNAMED");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        return command;
    }
}
