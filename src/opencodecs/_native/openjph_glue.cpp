// HTJ2K encoding with OpenJPH, behind the C interface of openjph_glue.h.

#include "openjph_glue.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <vector>

#include <openjph/ojph_arch.h>
#include <openjph/ojph_codestream.h>
#include <openjph/ojph_file.h>
#include <openjph/ojph_mem.h>
#include <openjph/ojph_message.h>
#include <openjph/ojph_params.h>

namespace {

class BufferOutfile : public ojph::outfile_base {
public:
    explicit BufferOutfile(htj2k_output* out) : out_(out) {}

    size_t write(const void* data, size_t size) override {
        if (!reserve(out_->size + size))
            return 0;  // OpenJPH reports the short write as an error
        memcpy(out_->data + out_->size, data, size);
        out_->size += size;
        return size;
    }

    ojph::si64 tell() override { return static_cast<ojph::si64>(out_->size); }

private:
    bool reserve(size_t end) {
        if (end <= out_->capacity)
            return true;
        if (!out_->growable) {
            out_->overflow = 1;
            return false;
        }
        size_t capacity = end > 2 * out_->capacity ? end : 2 * out_->capacity;
        void* grown = realloc(out_->data, capacity);
        if (grown == nullptr)
            return false;
        out_->data = static_cast<uint8_t*>(grown);
        out_->capacity = capacity;
        return true;
    }

    htj2k_output* out_;
};

// One channel of interleaved samples -> one line of 32-bit samples.
template <typename T>
void load_line(const T* src, ojph::si32* line, uint32_t width, uint32_t stride) {
    for (uint32_t x = 0; x < width; ++x)
        line[x] = static_cast<ojph::si32>(src[static_cast<size_t>(x) * stride]);
}

template <typename T>
void push_image(ojph::codestream& cs, const T* src, const htj2k_layout& l) {
    std::vector<uint32_t> rows(l.channels, 0);
    ojph::ui32 comp;
    ojph::line_buf* line = cs.exchange(nullptr, comp);
    for (size_t i = 0; i < static_cast<size_t>(l.height) * l.channels; ++i) {
        if (line == nullptr || comp >= l.channels || rows[comp] >= l.height)
            throw std::runtime_error("encoder asked for more lines than the image has");
        size_t row = rows[comp]++;
        load_line(src + row * l.width * l.channels + comp, line->i32, l.width, l.channels);
        line = cs.exchange(line, comp);
    }
}

}  // namespace

extern "C" {

void htj2k_init(void) {
    // OpenJPH prints every message (warnings to stdout), then throws on errors.
    FILE* sink = fopen("/dev/null", "w");
    if (sink != nullptr) {
        ojph::set_info_stream(sink);
        ojph::set_warning_stream(sink);
        ojph::set_error_stream(sink);
    }
}

int htj2k_encode(const void* src, const htj2k_layout* layout, int reversible, float qstep,
                 uint32_t decompositions, htj2k_output* out, char* err, size_t errlen) {
    try {
        BufferOutfile file(out);
        ojph::codestream cs;
        cs.set_planar(false);
        ojph::param_siz siz = cs.access_siz();
        siz.set_image_extent(ojph::point(layout->width, layout->height));
        siz.set_num_components(layout->channels);
        for (uint32_t c = 0; c < layout->channels; ++c)
            siz.set_component(c, ojph::point(1, 1), 8 * layout->itemsize, layout->is_signed != 0);
        ojph::param_cod cod = cs.access_cod();
        cod.set_num_decomposition(decompositions);
        cod.set_color_transform(layout->channels >= 3);
        cod.set_reversible(reversible != 0);
        if (!reversible)
            cs.access_qcd().set_irrev_quant(qstep);
        cs.write_headers(&file);
        if (layout->itemsize == 1) {
            if (layout->is_signed)
                push_image(cs, static_cast<const int8_t*>(src), *layout);
            else
                push_image(cs, static_cast<const uint8_t*>(src), *layout);
        } else {
            if (layout->is_signed)
                push_image(cs, static_cast<const int16_t*>(src), *layout);
            else
                push_image(cs, static_cast<const uint16_t*>(src), *layout);
        }
        cs.flush();
        cs.close();
        return 0;
    } catch (const std::exception& e) {
        snprintf(err, errlen, "OpenJPH failed (%s)", e.what());
        return -1;
    }
}

}  // extern "C"
