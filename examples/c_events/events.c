/* The dial9 C API in a small C11 program: one custom event type with fields
 * of several types (an optional string and a float among them) and nested
 * spans with a field. It does a fixed amount of work: 100 batches, each a
 * process_batch span with 3 process_step spans inside, and 10 OrderPlaced
 * events per batch (1000 in all). Without dial9 every call does nothing and
 * the program prints the same lines; `dial9 record -- dial9-c-events`
 * records the events and spans.
 */
#define DIAL9_IMPLEMENTATION /* this program's one implementation unit */
#include <dial9/dial9.h>
#include <stdint.h>
#include <stdio.h>

enum { kBatches = 100, kStepsPerBatch = 3, kOrdersPerBatch = 10 };

static const dial9_field order_fields[] = {
    {"order_id", DIAL9_U64},
    {"quantity", DIAL9_U32},
    {"price", DIAL9_F64},
    {"balance_delta", DIAL9_I64},
    {"express", DIAL9_BOOL},
    {"coupon", DIAL9_STRING | DIAL9_OPTIONAL}, /* absent on most orders */
};
static dial9_event_type order_placed = DIAL9_EVENT_TYPE("OrderPlaced", order_fields);

static const char* const batch_field_names[] = {"batch"};
static dial9_span_site batch_site = DIAL9_SPAN_SITE("process_batch", batch_field_names, 1);
static const char* const step_field_names[] = {"step"};
static dial9_span_site step_site = DIAL9_SPAN_SITE("process_step", step_field_names, 1);

/* Deterministic work, so steps take measurable time. */
static __attribute__((noinline)) uint64_t mix(uint64_t seed, int rounds) {
  uint64_t h = seed ^ 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < rounds; ++i) h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9ull + (uint64_t)i;
  return h;
}

static dial9_str str_of(const char* s, int len) {
  dial9_str v;
  v.ptr = s;
  v.len = len > 0 ? (size_t)len : 0;
  return v;
}

int main(void) {
  static const char* const step_names[kStepsPerBatch] = {"validate", "price", "commit"};
  static const char* const coupons[] = {"WELCOME10", "SPRING"};
  uint64_t checksum = 0;
  uint64_t orders = 0, with_coupon = 0;
  double revenue = 0;

  fprintf(stderr, "dial9-c-events: dial9 agent %s\n", dial9_active() ? "present: recording" : "absent");
  for (int b = 0; b < kBatches; ++b) {
    char batch_name[32];
    int n = snprintf(batch_name, sizeof batch_name, "batch-%03d", b);
    dial9_str batch_value = str_of(batch_name, n);
    uint64_t batch_span = dial9_span_enter(&batch_site, &batch_value, 1);

    for (int s = 0; s < kStepsPerBatch; ++s) {
      dial9_str step_value = str_of(step_names[s], (int)__builtin_strlen(step_names[s]));
      uint64_t step_span = dial9_span_enter(&step_site, &step_value, 1);
      checksum ^= mix(checksum + (uint64_t)(b * kStepsPerBatch + s), 20000);
      if (s == 1) { /* the price step places the batch's orders */
        for (int i = 0; i < kOrdersPerBatch; ++i) {
          uint64_t id = (uint64_t)b * kOrdersPerBatch + (uint64_t)i + 1;
          uint32_t quantity = (uint32_t)(id % 7 + 1);
          double price = 9.99 + (double)(id % 13) * 0.5;
          int64_t delta = (id % 3 == 0) ? -(int64_t)quantity : (int64_t)quantity;
          int express = id % 4 == 0;
          const char* coupon = id % 10 == 0 ? coupons[(id / 10) % 2] : NULL;
          dial9_value values[6] = {dial9_uint(id),   dial9_uint(quantity), dial9_float(price),
                                   dial9_int(delta), dial9_bool(express),
                                   coupon ? dial9_string(coupon) : dial9_absent()};
          dial9_emit(&order_placed, values, 6);
          ++orders;
          with_coupon += coupon != NULL;
          revenue += price * quantity;
        }
      }
      dial9_span_exit(step_span);
    }
    dial9_span_exit(batch_span);
  }

  printf("batches %d steps %d orders %llu with_coupon %llu revenue %.2f checksum %016llx\n", kBatches,
         kBatches * kStepsPerBatch, (unsigned long long)orders, (unsigned long long)with_coupon, revenue,
         (unsigned long long)checksum);
  return 0;
}
