using System.Globalization;
using GpuTransformer.Runtime.Cpu;
using GpuTransformer.Runtime.Cuda;
using GpuTransformer.Runtime.Emulator;
using GpuTransformer.Runtime.OpenCL;

namespace GpuTransformer.Runtime;

/// <summary>
/// The devices this machine offers and how to open one by id: <c>cpu</c>, <c>emulator</c>, <c>opencl[:N]</c>,
/// <c>cuda[:N]</c>, or <c>auto</c> (the first CUDA device, else the first OpenCL GPU, else cpu). Native libraries
/// are loaded only when a backend is first asked for its devices.
/// </summary>
public static class DeviceCatalog
{
    // CUDA first: auto prefers CUDA on an NVIDIA machine that also has an OpenCL driver.
    private static readonly IDeviceProvider[] Providers = [new CudaProvider(), OpenCLProvider.Instance];

    /// <summary>The backend names an id may start with.</summary>
    public static IReadOnlyList<string> Backends { get; } = ["cpu", "emulator", "opencl", "cuda"];

    /// <summary>Every device present, cpu and emulator first.</summary>
    /// <returns>The devices.</returns>
    public static IReadOnlyList<DeviceDescription> Enumerate() => Enumerate(out _);

    /// <summary>Every device present, and for each backend that has none, why.</summary>
    /// <param name="problems">One line per absent backend, e.g. <c>opencl: libOpenCL.so.1 not found</c>.</param>
    /// <returns>The devices.</returns>
    public static IReadOnlyList<DeviceDescription> Enumerate(out IReadOnlyList<string> problems)
    {
        var devices = new List<DeviceDescription> { CpuAccelerator.Describe(), EmulatorAccelerator.Describe() };
        var absent = new List<string>();
        foreach (var provider in AllProviders())
        {
            var found = provider.Enumerate(out string? problem);
            devices.AddRange(found);
            if (found.Count == 0)
            {
                absent.Add($"{provider.Prefix}: {problem ?? "no devices"}");
            }
        }

        problems = absent;
        return devices;
    }

    /// <summary>Opens a device by id.</summary>
    /// <param name="id"><c>cpu</c>, <c>emulator</c> (<c>emulator:threads</c> for a thread per work-item), <c>opencl</c>, <c>opencl:N</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c>.</param>
    /// <returns>The accelerator; dispose it.</returns>
    /// <exception cref="ArgumentException">The id is malformed.</exception>
    /// <exception cref="NotSupportedException">No such device here; the message says what is available and why a backend is absent.</exception>
    public static Accelerator Open(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        string normalized = id.Trim().ToLowerInvariant();
        if (normalized == "auto")
        {
            return OpenAuto();
        }

        if (normalized == "emulator:threads")
        {
            return new EmulatorAccelerator(EmulatorMode.ThreadPerWorkItem);
        }

        string prefix = normalized;
        int index = 0;
        int colon = normalized.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            prefix = normalized[..colon];
            if (!int.TryParse(normalized[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out index))
            {
                throw new ArgumentException($"device '{id}': the part after ':' must be a device number", nameof(id));
            }
        }

        switch (prefix)
        {
            case "cpu" when index == 0:
                return new CpuAccelerator();
            case "emulator" when index == 0:
                return new EmulatorAccelerator();
        }

        var provider = AllProviders().FirstOrDefault(p => p.Prefix == prefix)
            ?? throw new NotSupportedException($"device '{id}' is not known; devices are {string.Join(", ", Backends)} (with :N for OpenCL and CUDA) or auto");
        var devices = provider.Enumerate(out string? problem);
        if (index >= devices.Count)
        {
            string have = devices.Count == 0 ? $"there are no {prefix} devices ({problem ?? "none found"})" : $"{prefix} devices are {string.Join(", ", devices.Select(d => $"{d.Id} ({d.Name})"))}";
            throw new NotSupportedException($"device '{id}' is not available: {have}");
        }

        return provider.Open(index);
    }

    private static Accelerator OpenAuto()
    {
        foreach (var provider in AllProviders())
        {
            var gpu = provider.Enumerate(out _).Select((d, i) => (d, i)).FirstOrDefault(p => p.d.IsGpu);
            if (gpu.d is not null)
            {
                return provider.Open(gpu.i);
            }
        }

        return new CpuAccelerator();
    }

    private static IEnumerable<IDeviceProvider> AllProviders() => Providers;
}
