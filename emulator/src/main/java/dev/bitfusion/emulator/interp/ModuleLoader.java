package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.EmulatedModule;
import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.GlobalSymbol;
import dev.bitfusion.emulator.memory.DeviceMemory;
import dev.bitfusion.emulator.ptx.PtxFunction;
import dev.bitfusion.emulator.ptx.PtxParameterLayout;
import dev.bitfusion.emulator.ptx.PtxModule;
import dev.bitfusion.emulator.ptx.PtxParser;
import dev.bitfusion.emulator.ptx.PtxVariable;
import org.agrona.UnsafeApi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_PTX;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NOT_SUPPORTED;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_OUT_OF_MEMORY;

/**
 * Loads PTX text: parses it, places its globals in the tenant's memory, decodes every function and links
 * calls.
 * <p>
 * Thread safety: stateless.
 */
public final class ModuleLoader
{
    private ModuleLoader()
    {
    }

    /**
     * @param ptx    PTX text.
     * @param memory the tenant's device memory.
     * @return the loaded module.
     * @throws EmulatorException when the text is not valid PTX or uses what the interpreter does not support.
     */
    public static EmulatedModule load(final String ptx, final DeviceMemory memory) throws EmulatorException
    {
        final PtxModule module = PtxParser.parse(ptx);
        final Decoder.ModuleScope scope = new Decoder.ModuleScope();
        final List<Long> allocations = new ArrayList<>();
        final Map<String, GlobalSymbol> globals = new HashMap<>();
        try
        {
            for (final PtxFunction function : module.functions())
            {
                scope.functions.put(function.name(), function);
            }
            final List<PtxVariable> initialised = new ArrayList<>();
            for (final PtxVariable variable : module.variables())
            {
                switch (variable.space())
                {
                    case "global", "const" ->
                    {
                        if (variable.external())
                        {
                            throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED, "external variable " + variable.name() +
                                " cannot be resolved (line " + variable.line() + ")");
                        }
                        final long size = Math.max(1, variable.sizeBytes());
                        final long address = memory.allocate(size);
                        if (address == 0)
                        {
                            throw new EmulatorException(CUDA_ERROR_OUT_OF_MEMORY,
                                "no device memory for global " + variable.name());
                        }
                        allocations.add(address);
                        scope.globalAddresses.put(variable.name(), address);
                        globals.put(variable.name(), new GlobalSymbol(address, variable.sizeBytes()));
                        initialised.add(variable);
                    }
                    case "shared" ->
                    {
                        if (variable.external() || variable.count() < 0)
                        {
                            scope.dynamicShared.add(variable.name());
                        }
                        else
                        {
                            final int alignment = Math.max(1, variable.alignment());
                            final int offset = (scope.sharedBytes + alignment - 1) / alignment * alignment;
                            scope.sharedOffsets.put(variable.name(), offset);
                            scope.sharedBytes = offset + (int)variable.sizeBytes();
                        }
                    }
                    default -> throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED, "module-scope ." + variable.space() +
                        " variables are not supported (line " + variable.line() + ")");
                }
            }
            for (final PtxVariable variable : initialised)
            {
                final long host = memory.hostAddress(scope.globalAddresses.get(variable.name()), 1);
                final byte[] init = variable.init();
                if (init != null)
                {
                    for (int i = 0; i < init.length && i < variable.sizeBytes(); i++)
                    {
                        UnsafeApi.putByte(host + i, init[i]);
                    }
                }
                for (final PtxVariable.SymbolReference reference : variable.initSymbols())
                {
                    final Long target = scope.globalAddresses.get(reference.symbol());
                    if (target == null)
                    {
                        throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED,
                            "initialiser of " + variable.name() + " refers to " +
                            reference.symbol() + ", which is not a global variable");
                    }
                    if (reference.offset() + 8 <= variable.sizeBytes())
                    {
                        UnsafeApi.putLong(host + reference.offset(), target);
                    }
                }
            }

            final Map<String, CompiledFunction> compiled = new HashMap<>();
            int largestFrame = 0;
            for (final PtxFunction function : module.functions())
            {
                if (!function.external())
                {
                    final CompiledFunction decoded = Decoder.decode(scope, function);
                    compiled.put(function.name(), decoded);
                    largestFrame = Math.max(largestFrame, decoded.frameSize);
                }
            }
            boolean anyCollective = false;
            boolean anyCalls = false;
            for (final CompiledFunction function : compiled.values())
            {
                anyCollective |= function.collective;
                anyCalls |= function.calls;
                for (final CompiledFunction.CallSite site : function.callSites)
                {
                    site.callee = compiled.get(site.calleeName);
                }
            }

            final Map<String, InterpretedFunction> entries = new HashMap<>();
            // Both report the target architecture (e.g. 75 for sm_75), as the driver does for JIT-compiled PTX.
            final int ptxVersion = targetVersion(module.target());
            final int binaryVersion = ptxVersion;
            for (final PtxFunction function : module.functions())
            {
                if (function.entry() && !function.external())
                {
                    final CompiledFunction entry = compiled.get(function.name());
                    entry.collective |= anyCollective && reachesCollective(entry, new HashMap<>());
                    entry.calls |= anyCalls;
                    final PtxParameterLayout layout = PtxParameterLayout.of(function);
                    entries.put(function.name(), new InterpretedFunction(
                        entry, memory, layout.offsets(), layout.sizes(), ptxVersion, binaryVersion, largestFrame));
                }
            }
            return new InterpretedModule(entries, globals, allocations, memory);
        }
        catch (final EmulatorException | RuntimeException ex)
        {
            for (final long address : allocations)
            {
                memory.free(address);
            }
            if (ex instanceof EmulatorException emulatorException)
            {
                throw emulatorException;
            }
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "malformed PTX: " + ex);
        }
    }

    private static boolean reachesCollective(final CompiledFunction function, final Map<CompiledFunction, Boolean> seen)
    {
        if (function.collective)
        {
            return true;
        }
        if (seen.put(function, Boolean.TRUE) != null)
        {
            return false;
        }
        for (final CompiledFunction.CallSite site : function.callSites)
        {
            if (site.callee != null && reachesCollective(site.callee, seen))
            {
                return true;
            }
        }
        return false;
    }

    private static int targetVersion(final String target)
    {
        final String digits = target.replaceAll("[^0-9]", "");
        return digits.isEmpty() ? 0 : Integer.parseInt(digits.length() > 3 ? digits.substring(0, 3) : digits);
    }
}
