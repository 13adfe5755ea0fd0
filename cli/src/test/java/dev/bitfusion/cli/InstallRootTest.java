package dev.bitfusion.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class InstallRootTest
{
    @Test
    void shouldFindRepositoryRootWhenJarIsInBuildTree()
    {
        assertEquals("/src/bitfusion", InstallRoot.fromJar(Path.of("/src/bitfusion/cli/target/lib/bitfusion-cli.jar")));
    }

    @Test
    void shouldFindDistributionRootWhenJarIsInLib()
    {
        assertEquals("/opt/bitfusion", InstallRoot.fromJar(Path.of("/opt/bitfusion/lib/bitfusion-cli.jar")));
    }

    @Test
    void shouldNotGuessWhenRunFromClassesDirectory()
    {
        assertNull(InstallRoot.fromJar(Path.of("/src/bitfusion/cli/target/classes/bitfusion-cli.jar")));
    }
}
