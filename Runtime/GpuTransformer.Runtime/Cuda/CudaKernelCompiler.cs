using System.Runtime.InteropServices;
using System.Text;

namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// Turns a kernel's CUDA C into PTX with NVRTC, through the <see cref="PtxCache"/>. PTX (not a cubin) is the target
/// so that one cache entry serves every GPU of a compute capability and the driver's JIT can run it on newer ones.
/// </summary>
internal sealed unsafe class CudaKernelCompiler
{
    private const int Success = Nvrtc.Success;

    private readonly Nvrtc nvrtc;
    private readonly PtxCache? cache;

    /// <summary>Creates a compiler.</summary>
    /// <param name="nvrtc">The loaded NVRTC.</param>
    /// <param name="cache">Where PTX is kept between runs, or null for none.</param>
    public CudaKernelCompiler(Nvrtc nvrtc, PtxCache? cache)
    {
        this.nvrtc = nvrtc;
        this.cache = cache;
    }

    /// <summary>
    /// The virtual architecture to compile for: the device's compute capability, lowered to the newest one this
    /// NVRTC knows when the device is newer than the toolkit (PTX of an older architecture runs on newer GPUs).
    /// </summary>
    /// <param name="major">Compute capability major.</param>
    /// <param name="minor">Compute capability minor.</param>
    /// <returns>E.g. <c>compute_90</c>.</returns>
    public string Architecture(int major, int minor) => ChooseArchitecture(major * 10 + minor, nvrtc.SupportedArchitectures());

    /// <summary>The architecture choice, separate from NVRTC so that it can be tested.</summary>
    /// <param name="device">The device's capability as major*10+minor.</param>
    /// <param name="supported">What the compiler supports, ascending; empty when unknown.</param>
    /// <returns>E.g. <c>compute_86</c>.</returns>
    public static string ChooseArchitecture(int device, IReadOnlyList<int> supported)
    {
        int chosen = device;
        if (supported.Count > 0 && !supported.Contains(device))
        {
            var lower = supported.Where(a => a <= device).ToArray();
            chosen = lower.Length > 0 ? lower.Max() : device;
        }

        return $"compute_{chosen}";
    }

    /// <summary>Returns the PTX of <paramref name="kernel"/> for <paramref name="architecture"/>, from the cache or compiled now.</summary>
    /// <param name="kernel">The kernel.</param>
    /// <param name="architecture">From <see cref="Architecture"/>.</param>
    /// <returns>NUL-terminated PTX text, as cuModuleLoadData takes it.</returns>
    /// <exception cref="CudaException">NVRTC rejected the source; the message holds its log.</exception>
    public byte[] GetPtx(KernelDefinition kernel, string architecture)
    {
        string[] options = Options(architecture);
        string key = PtxCache.Key(kernel.CudaSource, architecture, $"nvrtc {nvrtc.Version}; {string.Join(' ', options)}");
        if (cache?.TryRead(key) is { } cached)
        {
            return cached;
        }

        byte[] ptx = Compile(kernel, architecture, options);
        cache?.TryWrite(key, ptx);
        return ptx;
    }

    private static string[] Options(string architecture) =>

        // No --use_fast_math: the goldens hold results to 1e-4 of PyTorch's, which needs IEEE division, sqrt and expf.
        [$"--gpu-architecture={architecture}"];

    private static byte[] Utf8Z(string text)
    {
        int count = Encoding.UTF8.GetByteCount(text);
        var bytes = new byte[count + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    private byte[] Compile(KernelDefinition kernel, string architecture, string[] options)
    {
        string doing = $"compiling {kernel.Name} ({kernel.SourceMethod}) for {architecture} with NVRTC {nvrtc.Version}";
        byte[] source = Utf8Z(kernel.CudaSource);
        byte[] name = Utf8Z(kernel.Name + ".cu");
        nint program = 0;
        int result;
        fixed (byte* s = source)
        fixed (byte* n = name)
        {
            result = nvrtc.nvrtcCreateProgram(&program, s, n, 0, null, null);
        }

        Check(result, "nvrtcCreateProgram", doing, log: null);
        try
        {
            var optionBytes = options.Select(Utf8Z).ToArray();
            var handles = new GCHandle[optionBytes.Length];
            var pointers = new nint[optionBytes.Length];
            try
            {
                for (int i = 0; i < optionBytes.Length; i++)
                {
                    handles[i] = GCHandle.Alloc(optionBytes[i], GCHandleType.Pinned);
                    pointers[i] = handles[i].AddrOfPinnedObject();
                }

                fixed (nint* p = pointers)
                {
                    result = nvrtc.nvrtcCompileProgram(program, pointers.Length, (byte**)p);
                }
            }
            finally
            {
                foreach (var handle in handles)
                {
                    if (handle.IsAllocated)
                    {
                        handle.Free();
                    }
                }
            }

            Check(result, "nvrtcCompileProgram", doing, result == Success ? null : Log(program));
            nuint size;
            Check(nvrtc.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize", doing, log: null);
            var ptx = new byte[checked((int)size)];
            fixed (byte* p = ptx)
            {
                Check(nvrtc.nvrtcGetPTX(program, p), "nvrtcGetPTX", doing, log: null);
            }

            return ptx;
        }
        finally
        {
            nvrtc.nvrtcDestroyProgram(&program);
        }
    }

    private string Log(nint program)
    {
        nuint size;
        if (nvrtc.nvrtcGetProgramLogSize(program, &size) != Success || size <= 1)
        {
            return "";
        }

        var log = new byte[checked((int)size)];
        fixed (byte* p = log)
        {
            if (nvrtc.nvrtcGetProgramLog(program, p) != Success)
            {
                return "";
            }
        }

        return Encoding.UTF8.GetString(log, 0, log.Length - 1);
    }

    private void Check(int result, string call, string doing, string? log)
    {
        if (result != Success)
        {
            string name = nvrtc.ErrorName(result);
            string message = string.IsNullOrWhiteSpace(log) ? $"{doing}: {call} failed with {name}" : $"{doing}: {call} failed with {name}:\n{log.TrimEnd()}";
            throw new CudaException(call, result, name, message);
        }
    }
}
